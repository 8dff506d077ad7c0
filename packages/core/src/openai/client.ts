import { setTimeout as sleep } from "node:timers/promises";

/** A part of a multimodal chat message. */
export type ChatContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } };

/** A chat message as OpenAI-compatible servers take it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string | ChatContentPart[];
}

/** Options of one chat completion. */
export interface ChatOptions {
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  n?: number;
  /** Ask for token log-probabilities (OpenAI's `logprobs: true`); summed per choice into `logprobs`. */
  logprobs?: boolean;
  /**
   * Refuse a reply cut at `max_tokens` (a choice with `finish_reason: "length"`): an OpenAIError naming
   * the limit, not retried (the same request would be cut again). Default: such a reply is returned.
   */
  refuseLength?: boolean;
  /** Extra fields merged into the request body (server-specific options such as `top_k`). */
  extraBody?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** What one chat completion returned. */
export interface ChatResult {
  text: string;
  texts: string[];
  /** Summed token log-probability of each choice, where the server returned them. */
  logprobs?: Array<number | undefined>;
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** Each choice's `finish_reason` ("stop", "length", …) where the server gave one. */
  finishReasons?: Array<string | undefined>;
  raw: unknown;
}

/** Options of the client; unset ones come from OPENAI_BASE_URL, OPENAI_MODEL and OPENAI_API_KEY. */
export interface OpenAIChatClientOptions {
  baseURL?: string;
  model?: string;
  apiKey?: string;
  /** Per-request time limit in ms (default 60 000). */
  timeoutMs?: number;
  /** Retries after the first try on 429, 5xx, timeouts, network errors and malformed replies (default 4). */
  maxRetries?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** First backoff in ms, doubled each retry with jitter (default 500). */
  backoffMs?: number;
  /**
   * Longest time one `chat` may take in ms, tries and waits between them together (default 600 000):
   * a server that answers 429 forever, or a Retry-After past it, ends in an error at the deadline.
   */
  deadlineMs?: number;
  /** Largest reply body in bytes (default 16 MiB): a longer (or endless) body is cut and refused. */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

/** A failed chat completion: the HTTP status where there was one, and an excerpt of the body. */
export class OpenAIError extends Error {
  override name = "OpenAIError";
  /**
   * True where every other request to this endpoint would fail the same way, so a caller with many
   * requests should stop them all: a refused key or missing model/route (HTTP 401, 403, 404), or
   * retries spent on a server that does not answer.
   */
  readonly fatal: boolean;
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
    gaveUp = false,
  ) {
    super(message);
    this.fatal = gaveUp || status === 401 || status === 403 || status === 404;
  }
}

/** True for an error (or one in its `cause` chain) after which no request to the same endpoint can succeed. */
export function isFatalEndpointError(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    if (e instanceof OpenAIError && e.fatal) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A client of any OpenAI-compatible chat completions endpoint (vLLM, Ollama, llama.cpp, OpenAI…). */
export class OpenAIChatClient {
  readonly baseURL: string;
  readonly model: string;
  private readonly apiKey?: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly deadlineMs: number;
  private readonly maxResponseBytes: number;
  private readonly fetchImpl: typeof fetch;
  private readonly slots: Semaphore;

  constructor(options: OpenAIChatClientOptions = {}) {
    const base = options.baseURL ?? process.env.OPENAI_BASE_URL;
    const model = options.model ?? process.env.OPENAI_MODEL;
    if (!base) throw new OpenAIError("OpenAIChatClient: no base URL (option baseURL or env OPENAI_BASE_URL)");
    if (!model) throw new OpenAIError("OpenAIChatClient: no model (option model or env OPENAI_MODEL)");
    this.baseURL = base.replace(/\/+$/, "");
    this.model = model;
    this.apiKey = options.apiKey ?? process.env.OPENAI_API_KEY;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.backoffMs = options.backoffMs ?? 500;
    this.deadlineMs = options.deadlineMs ?? 600_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
    this.fetchImpl = options.fetch ?? fetch;
    this.slots = new Semaphore(options.concurrency ?? 4);
  }

  /** Sends one chat completion and returns its text(s), retrying transient failures with backoff. */
  async chat(messages: ChatMessage[], options: ChatOptions = {}): Promise<ChatResult> {
    const body: Record<string, unknown> = { model: this.model, messages };
    if (options.temperature !== undefined) body.temperature = options.temperature;
    if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
    if (options.topP !== undefined) body.top_p = options.topP;
    if (options.seed !== undefined) body.seed = options.seed;
    if (options.stop !== undefined) body.stop = options.stop;
    if (options.n !== undefined) body.n = options.n;
    if (options.logprobs) body.logprobs = true;
    if (options.extraBody) Object.assign(body, options.extraBody);
    const url = `${this.baseURL}/chat/completions`;
    const started = Date.now();
    const deadline = started + this.deadlineMs;
    let lastError: OpenAIError | undefined;
    let tries = 0;
    const giveUp = (why: string) =>
      new OpenAIError(
        `${url}: gave up after ${tries} ${tries === 1 ? "try" : "tries"}: ${lastError?.message.replace(`${url}: `, "")} (${why}; ${((Date.now() - started) / 1000).toFixed(1)} s in all)`,
        lastError?.status,
        false,
        true,
      );
    for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
      if (options.signal?.aborted) throw new OpenAIError("chat completion aborted");
      let retryAfterMs: number | undefined;
      tries++;
      try {
        return await this.slots.run(() => this.once(body, options, deadline));
      } catch (err) {
        if (!(err instanceof OpenAIError) || !err.retryable) throw err;
        lastError = err;
        retryAfterMs = (err as OpenAIError & { retryAfterMs?: number }).retryAfterMs;
      }
      if (attempt < this.maxRetries) {
        const backoff = this.backoffMs * 2 ** attempt * (0.75 + 0.5 * Math.random());
        const wait = Math.min(60_000, Math.max(backoff, retryAfterMs ?? 0));
        if (Date.now() + wait >= deadline)
          throw giveUp(`the next try would pass the ${this.deadlineMs} ms deadline`);
        await sleep(wait);
      }
    }
    throw giveUp(`maxRetries ${this.maxRetries}`);
  }

  private async once(
    body: Record<string, unknown>,
    options: ChatOptions,
    deadline: number,
  ): Promise<ChatResult> {
    const signal = options.signal;
    const url = `${this.baseURL}/chat/completions`;
    const controller = new AbortController();
    const limitMs = Math.max(1, Math.min(this.timeoutMs, deadline - Date.now()));
    const timer = setTimeout(() => controller.abort(), limitMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort);
    let res: Response;
    let text: string;
    try {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
      res = await this.fetchImpl(url, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      text = await readBounded(res, this.maxResponseBytes, url);
    } catch (err) {
      if (signal?.aborted) throw new OpenAIError(`${url}: aborted`);
      if (err instanceof OpenAIError) {
        controller.abort();
        throw err;
      }
      const timedOut = controller.signal.aborted;
      throw new OpenAIError(
        timedOut ? `${url}: no whole reply within ${limitMs} ms` : `${url}: ${(err as Error).message}`,
        undefined,
        true,
      );
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    const excerpt = text.length > 300 ? `${text.slice(0, 300)}…` : text;
    if (!res.ok) {
      const retryable = res.status === 429 || res.status >= 500 || res.status === 408;
      const error = new OpenAIError(`${url}: HTTP ${res.status}: ${excerpt}`, res.status, retryable);
      const after = Number(res.headers.get("retry-after"));
      if (Number.isFinite(after) && after > 0)
        (error as OpenAIError & { retryAfterMs?: number }).retryAfterMs = after * 1000;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new OpenAIError(`${url}: reply is not JSON: ${excerpt}`, res.status, true);
    }
    const choices = (json as { choices?: Array<{ message?: { content?: unknown } }> }).choices;
    if (!Array.isArray(choices) || choices.length === 0 || typeof choices[0]?.message?.content !== "string") {
      throw new OpenAIError(
        `${url}: malformed reply (no choices[0].message.content): ${excerpt}`,
        res.status,
        true,
      );
    }
    const texts = choices.map((c) => (typeof c?.message?.content === "string" ? c.message.content : ""));
    const usage = (json as { usage?: ChatResult["usage"] }).usage;
    const logprobs = choices.map((c) => sumLogprobs((c as { logprobs?: unknown }).logprobs));
    const finishReasons = choices.map((c) => {
      const r = (c as { finish_reason?: unknown }).finish_reason;
      return typeof r === "string" ? r : undefined;
    });
    if (options.refuseLength && finishReasons.includes("length"))
      throw new OpenAIError(
        `${url}: the reply was cut at max_tokens ${body.max_tokens ?? "(the server's default)"} (finish_reason "length"): raise the limit`,
        res.status,
      );
    return {
      text: texts[0],
      texts,
      ...(logprobs.some((l) => l !== undefined) ? { logprobs } : {}),
      usage,
      finishReasons,
      raw: json,
    };
  }
}

/** The body of `res` as text, refused (and the connection dropped) past `max` bytes. */
async function readBounded(res: Response, max: number, url: string): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new OpenAIError(
        `${url}: the reply is longer than ${max} bytes (an endless body?); refused`,
        res.status,
      );
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size).toString("utf8");
}

/** Sum of `logprobs.content[].logprob` of one choice (OpenAI's layout), or undefined. */
function sumLogprobs(lp: unknown): number | undefined {
  const content = (lp as { content?: Array<{ logprob?: unknown }> } | null | undefined)?.content;
  if (!Array.isArray(content) || content.length === 0) return undefined;
  let sum = 0;
  for (const t of content) {
    if (typeof t?.logprob !== "number") return undefined;
    sum += t.logprob;
  }
  return sum;
}

/** A `data:` URL for image bytes, the MIME type sniffed from the magic bytes. */
export function imageDataUrl(bytes: Uint8Array): string {
  return `data:${sniffImageMime(bytes)};base64,${Buffer.from(bytes).toString("base64")}`;
}

/** The MIME type of PNG, JPEG, GIF, WebP, BMP or TIFF bytes (application/octet-stream otherwise). */
export function sniffImageMime(b: Uint8Array): string {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return "image/gif";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45)
    return "image/webp";
  if (b[0] === 0x42 && b[1] === 0x4d) return "image/bmp";
  if ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d)) return "image/tiff";
  return "application/octet-stream";
}

class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`concurrency must be at least 1, got ${limit}`);
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
