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
  /** Called as each token is sampled, where the policy streams (the in-process VLM does): `sr2se serve`'s SSE chunks. */
  onToken?: (token: StreamedToken) => void;
}

/** One generated token and its log-probability, as an entry of OpenAI's `logprobs.content`. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes (a token may hold part of a character). */
  bytes: number[];
  /** The likeliest tokens at this position (temperature 1), with `GenerateOptions.topLogprobs`. */
  top?: { token: string; logprob: number; bytes: number[] }[];
}

/** A token as it is sampled: its log-prob, and the response text it completes ("" while a character is unfinished). */
export interface StreamedToken extends TokenLogprob {
  text: string;
}

/** Sampling options shared by every policy. */
export interface GenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  /** Return each generated token's log-prob (`Generation.tokenLogprobs`), where the policy can. */
  logprobs?: boolean;
  /** With `logprobs`, also this many likeliest tokens at each position. */
  topLogprobs?: number;
}

/** What a policy returns for one request. */
export interface Generation {
  text: string;
  tokens?: number;
  /** Summed log-probability of the generated tokens, where the policy reports it. */
  logprob?: number;
  /** Each generated token's log-prob, with `GenerateOptions.logprobs` (end-of-turn tokens left out). */
  tokenLogprobs?: TokenLogprob[];
}

/**
 * Anything that answers chat requests about images: the in-process VLM, a client of an
 * OpenAI-compatible server, a scripted policy in tests. Must accept text-only requests.
 */
export interface VisionLanguagePolicy {
  generate(requests: GenerateRequest[], options?: GenerateOptions): Promise<Generation[]>;
}
