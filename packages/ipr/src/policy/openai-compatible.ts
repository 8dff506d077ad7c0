import { readFile } from "node:fs/promises";
import {
  type ChatContentPart,
  type ChatMessage,
  type GenerateOptions,
  type GenerateRequest,
  type Generation,
  imageDataUrl,
  OpenAIChatClient,
  type OpenAIChatClientOptions,
  type VisionLanguagePolicy,
} from "@sr2se/core";

/** Options of `OpenAICompatiblePolicy`: the client's (base URL, model and key default to OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY) or a ready client. */
export interface OpenAICompatiblePolicyOptions extends OpenAIChatClientOptions {
  client?: OpenAIChatClient;
  /** Image data URLs kept in memory, so refinement rounds do not re-read and re-encode the image (default 256). */
  imageCacheSize?: number;
  /** Ask the server for token log-probs (OpenAI's `logprobs: true`) so hard negatives are ranked by confidence (default false: not every server accepts it). */
  logprobs?: boolean;
}

/**
 * A `VisionLanguagePolicy` served by any OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp,
 * SGLang, OpenAI): the image goes as a base64 data URL content part of the first user turn; a request
 * without an image is sent as plain text. Retries on 429/5xx, timeouts and the concurrency cap are
 * the client's.
 */
export class OpenAICompatiblePolicy implements VisionLanguagePolicy {
  readonly client: OpenAIChatClient;
  private readonly cache = new Map<string, Promise<string>>();
  private readonly cacheSize: number;
  private readonly logprobs: boolean;

  constructor(options: OpenAICompatiblePolicyOptions = {}) {
    this.client = options.client ?? new OpenAIChatClient(options);
    this.cacheSize = options.imageCacheSize ?? 256;
    this.logprobs = options.logprobs ?? false;
  }

  /** Returns one generation a request, sending the requests concurrently (up to the client's cap). */
  generate(requests: GenerateRequest[], options: GenerateOptions = {}): Promise<Generation[]> {
    return Promise.all(requests.map((r) => this.one(r, options)));
  }

  /** Returns the chat messages sent for a request: the image as a data URL part of the first user turn. */
  async toChatMessages(request: GenerateRequest): Promise<ChatMessage[]> {
    if (request.image === undefined)
      return request.messages.map((m) => ({ role: m.role, content: m.content }));
    const url = await this.imageUrl(request.image);
    let placed = false;
    return request.messages.map((m) => {
      if (placed || m.role !== "user") return { role: m.role, content: m.content };
      placed = true;
      const parts: ChatContentPart[] = [
        { type: "image_url", image_url: { url } },
        { type: "text", text: m.content },
      ];
      return { role: m.role, content: parts };
    });
  }

  private async one(request: GenerateRequest, options: GenerateOptions): Promise<Generation> {
    const messages = await this.toChatMessages(request);
    const result = await this.client.chat(messages, {
      temperature: options.temperature,
      maxTokens: options.maxTokens,
      topP: options.topP,
      // a request's own seed first: its sampling then depends on nothing else in the batch
      seed: request.seed ?? options.seed,
      stop: options.stop,
      ...(this.logprobs ? { logprobs: true } : {}),
    });
    const g: Generation = { text: result.text };
    if (result.usage && Number.isFinite(result.usage.completion_tokens))
      g.tokens = result.usage.completion_tokens;
    const logprob = result.logprobs?.[0];
    if (logprob !== undefined) g.logprob = logprob;
    return g;
  }

  private imageUrl(image: string | Uint8Array): Promise<string> {
    if (typeof image !== "string") return Promise.resolve(imageDataUrl(image));
    if (/^(data:|https?:\/\/)/.test(image)) return Promise.resolve(image);
    let url = this.cache.get(image);
    if (url === undefined) {
      url = readFile(image).then(
        (bytes) => imageDataUrl(bytes),
        (err: NodeJS.ErrnoException) => {
          this.cache.delete(image);
          throw new Error(`image ${image}: ${err.code === "ENOENT" ? "no such file" : err.message}`);
        },
      );
      this.cache.set(image, url);
      if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    }
    return url;
  }
}
