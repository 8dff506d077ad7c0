/** One chat turn. */
export interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

/** One generation request: an image (path or bytes) and the chat so far. No image: a text-only turn. */
export interface GenerateRequest {
  image?: string | Uint8Array;
  messages: Message[];
  /**
   * Seeds this request's sampling, in place of `GenerateOptions.seed`: the same request and seed give
   * the same generation whatever else shares its batch, so results do not depend on batching or order.
   */
  seed?: number;
}

/** Sampling options shared by every policy. */
export interface GenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
}

/** What a policy returns for one request. */
export interface Generation {
  text: string;
  tokens?: number;
  /** Summed log-probability of the generated tokens, where the policy reports it. */
  logprob?: number;
}

/**
 * Anything that answers chat requests about images: the in-process VLM, a client of an
 * OpenAI-compatible server, a scripted policy in tests. Must accept text-only requests.
 */
export interface VisionLanguagePolicy {
  generate(requests: GenerateRequest[], options?: GenerateOptions): Promise<Generation[]>;
}
