// An OpenAI-compatible chat completions server for any VisionLanguagePolicy: what `sr2se serve`
// runs, so tools that speak the OpenAI protocol (including `sr2se ipr generate --endpoint`) can use
// a trained checkpoint. Requests that arrive together are decoded as one batch.
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type GenerateOptions,
  type GenerateRequest,
  type Generation,
  type Message,
  PolicyBatcher,
  type StreamedToken,
  type TokenLogprob,
  type VisionLanguagePolicy,
} from "@sr2se/core";

/** Options of `createPolicyServer`. */
export interface PolicyServerOptions {
  /** Model id reported by `/v1/models` and in replies (requests may name any model). */
  model: string;
  /** Most requests decoded together (default 32). */
  maxBatch?: number;
  /** How long the first request of a batch waits for others, in ms (default 5). */
  batchWindowMs?: number;
  /** Largest request body accepted, in bytes (default 20 MiB: images come base64-encoded). */
  maxBodyBytes?: number;
  /** Largest `max_tokens` accepted (default 4096). */
  maxTokensLimit?: number;
  /** Counts a request's prompt tokens for `usage` (usage then omits prompt_tokens when absent). */
  promptTokens?: (request: GenerateRequest) => number;
  /**
   * The bearer token every `/v1` request must send (`Authorization: Bearer KEY`), compared in constant
   * time; a missing or wrong one gets 401. Absent: no key is asked for. `/health` stays open.
   */
  apiKey?: string;
  /**
   * Most requests in progress at once, from arrival to reply (default 64); more get 503 with
   * Retry-After before their body is read, so a flood of large bodies holds at most this many.
   */
  maxConcurrent?: number;
  /** A request's own problem that the policy would fail on (a prompt too long…): a 400 naming it. */
  validate?: (request: GenerateRequest) => string | undefined;
  /** Called after each completion (for request logs). */
  onRequest?: (info: { status: number; ms: number; promptMessages: number; tokens?: number }) => void;
}

/** A request rejected with HTTP 400: `param` names the offending field, as OpenAI's errors do. */
class RequestError extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface Parsed {
  request: GenerateRequest;
  options: GenerateOptions;
  n: number;
  stream: boolean;
  logprobs: boolean;
  /** Alternatives a token position (OpenAI's `top_logprobs`; 0 without). */
  topLogprobs: number;
  /** A last chunk with `usage` (OpenAI's `stream_options.include_usage`). */
  includeUsage: boolean;
}

/** A generation with HSR-EE's early exit (`sr2se serve --gate`): the step it exited after and the gate's confidence. */
export interface GatedGeneration extends Generation {
  exitLevel?: number;
  confidence?: number;
}

const DATA_URL = /^data:([\w/+.-]+)?(;[\w=.-]+)*;base64,(.*)$/s;

/** Reads a chat completions body into a policy request, refusing what the policy cannot honour. */
export function parseChatRequest(body: unknown, maxTokensLimit = 4096): Parsed {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new RequestError("the request body must be a JSON object");
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.messages) || b.messages.length === 0)
    throw new RequestError("messages must be a non-empty array", "messages");
  let image: Uint8Array | undefined;
  const messages: Message[] = b.messages.map((raw, i) => {
    const at = `messages[${i}]`;
    if (!raw || typeof raw !== "object") throw new RequestError(`${at} must be an object`, at);
    const m = raw as { role?: unknown; content?: unknown };
    if (m.role !== "system" && m.role !== "user" && m.role !== "assistant")
      throw new RequestError(
        `${at}.role must be system, user or assistant, got ${JSON.stringify(m.role)}`,
        `${at}.role`,
      );
    if (typeof m.content === "string") return { role: m.role, content: m.content };
    if (!Array.isArray(m.content))
      throw new RequestError(`${at}.content must be a string or an array of parts`, `${at}.content`);
    const texts: string[] = [];
    m.content.forEach((part, j) => {
      const pat = `${at}.content[${j}]`;
      const p = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown } | string };
      if (p?.type === "text") {
        if (typeof p.text !== "string") throw new RequestError(`${pat}.text must be a string`, `${pat}.text`);
        texts.push(p.text);
      } else if (p?.type === "image_url") {
        const url = typeof p.image_url === "string" ? p.image_url : p.image_url?.url;
        if (typeof url !== "string")
          throw new RequestError(`${pat}.image_url.url must be a string`, `${pat}.image_url`);
        if (m.role !== "user") throw new RequestError(`${pat}: images go in a user message`, pat);
        if (image) throw new RequestError(`${pat}: this model takes one image a conversation`, pat);
        const match = DATA_URL.exec(url);
        if (!match) {
          throw new RequestError(
            `${pat}.image_url.url must be a base64 data URL (data:image/png;base64,…); this server fetches nothing`,
            `${pat}.image_url`,
          );
        }
        image = new Uint8Array(Buffer.from(match[3], "base64"));
        if (image.length === 0) throw new RequestError(`${pat}: the image data is empty`, `${pat}.image_url`);
      } else {
        throw new RequestError(
          `${pat}.type must be text or image_url, got ${JSON.stringify(p?.type)}`,
          `${pat}.type`,
        );
      }
    });
    return { role: m.role, content: texts.join("\n") };
  });
  const num = (name: string, lo: number, hi: number, integer = false): number | undefined => {
    const v = b[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v)))
      throw new RequestError(
        `${name} must be ${integer ? "an integer" : "a number"} in [${lo}, ${hi}], got ${JSON.stringify(v)}`,
        name,
      );
    return v;
  };
  const options: GenerateOptions = {};
  const temperature = num("temperature", 0, 2);
  const topP = num("top_p", 0, 1);
  const maxTokens =
    num("max_completion_tokens", 1, maxTokensLimit, true) ?? num("max_tokens", 1, maxTokensLimit, true);
  const seed = num("seed", -(2 ** 31), 2 ** 31 - 1, true);
  if (temperature !== undefined) options.temperature = temperature;
  if (topP !== undefined) options.topP = topP;
  if (maxTokens !== undefined) options.maxTokens = maxTokens;
  if (seed !== undefined) options.seed = seed;
  if (b.stop !== undefined && b.stop !== null) {
    const stop = typeof b.stop === "string" ? [b.stop] : b.stop;
    if (!Array.isArray(stop) || stop.length > 4 || !stop.every((s) => typeof s === "string" && s.length > 0))
      throw new RequestError("stop must be a string or an array of up to 4 non-empty strings", "stop");
    options.stop = stop as string[];
  }
  const n = num("n", 1, 8, true) ?? 1;
  if (b.stream !== undefined && typeof b.stream !== "boolean")
    throw new RequestError("stream must be a boolean", "stream");
  if (b.logprobs !== undefined && b.logprobs !== null && typeof b.logprobs !== "boolean")
    throw new RequestError("logprobs must be a boolean", "logprobs");
  const topLogprobs = num("top_logprobs", 0, 20, true) ?? 0;
  if (topLogprobs > 0 && b.logprobs !== true)
    throw new RequestError("top_logprobs needs logprobs: true", "top_logprobs");
  if (b.logprobs === true) options.logprobs = true;
  if (topLogprobs > 0) options.topLogprobs = topLogprobs;
  const so = b.stream_options;
  if (so !== undefined && so !== null && (typeof so !== "object" || Array.isArray(so)))
    throw new RequestError("stream_options must be an object", "stream_options");
  const includeUsage = (so as { include_usage?: unknown } | null | undefined)?.include_usage;
  if (includeUsage !== undefined && typeof includeUsage !== "boolean")
    throw new RequestError("stream_options.include_usage must be a boolean", "stream_options.include_usage");
  return {
    request: image ? { image, messages } : { messages },
    options,
    n,
    stream: b.stream === true,
    logprobs: b.logprobs === true,
    topLogprobs,
    includeUsage: includeUsage === true,
  };
}

/** Reads a request body up to `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return; // drained and dropped, so the 413 reply still reaches the client
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(new RequestError(`the request body exceeds ${limit} bytes`, null, 413));
        return;
      }
      chunks.push(c);
    });
    let ended = false;
    req.on("end", () => {
      ended = true;
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
    // a client that hangs up mid-body would otherwise leave this request waiting for good
    req.on("close", () => {
      if (!ended) reject(new RequestError("the client closed the connection before the body ended"));
    });
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Whether the request's `Authorization: Bearer …` is `key`, compared in time independent of both. */
function authorized(req: IncomingMessage, key: string): boolean {
  const header = req.headers.authorization ?? "";
  const given = header.startsWith("Bearer ") ? header.slice(7) : "";
  // digests of equal length, so neither the key's length nor its first differing byte shows in the time
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(key)) && given.length > 0;
}

function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): number {
  // an image the policy cannot decode is the request's fault, not the server's
  const e =
    err instanceof RequestError
      ? err
      : (err as Error | null)?.name === "ImageError"
        ? new RequestError((err as Error).message, "messages")
        : null;
  const status = e?.status ?? 500;
  send(
    res,
    status,
    {
      error: {
        message: (err as Error).message,
        type:
          status === 401
            ? "authentication_error"
            : e && status < 500
              ? "invalid_request_error"
              : "server_error",
        param: e?.param ?? null,
        code: status === 401 ? "invalid_api_key" : null,
      },
    },
    headers,
  );
  return status;
}

function usageOf(
  request: GenerateRequest,
  completion: number,
  count?: (request: GenerateRequest) => number,
): Record<string, number> {
  if (!count) return { completion_tokens: completion };
  const prompt = count(request);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** A policy error after a stream's first bytes: already reported in the stream. */
class StreamFailed extends Error {}

function writeEvent(res: ServerResponse, body: unknown): void {
  if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(body)}\n\n`);
}

/** Ends a stream that has begun with the error as an event, as OpenAI's and vLLM's streams send one. */
function failStream(res: ServerResponse, err: unknown): void {
  writeEvent(res, {
    error: { message: (err as Error).message, type: "server_error", param: null, code: null },
  });
  if (!res.writableEnded) res.end("data: [DONE]\n\n");
}

function finishReason(g: Generation): "stop" | "length" {
  return (g as Generation & { finishReason?: string }).finishReason === "length" ? "length" : "stop";
}

/** HSR-EE's exit, beside OpenAI's fields of a choice (clients that do not know them ignore them). */
function exitFields(g: GatedGeneration): { exit_level?: number; confidence?: number } {
  return {
    ...(g.exitLevel !== undefined ? { exit_level: g.exitLevel } : {}),
    ...(g.confidence !== undefined ? { confidence: g.confidence } : {}),
  };
}

/** One `logprobs.content` entry in OpenAI's wire format. */
function wireLogprob(t: TokenLogprob, top: number) {
  return {
    token: t.token,
    logprob: t.logprob,
    bytes: t.bytes,
    top_logprobs: (t.top ?? [])
      .slice(0, top)
      .map((x) => ({ token: x.token, logprob: x.logprob, bytes: x.bytes })),
  };
}

/** A choice's `logprobs.content`: per token where the policy gives them, else one entry holding the summed log-prob. */
function wireLogprobs(g: Generation, top: number): ReturnType<typeof wireLogprob>[] | null {
  if (g.tokenLogprobs) return g.tokenLogprobs.map((t) => wireLogprob(t, top));
  if (g.logprob === undefined) return null;
  return [{ token: g.text, logprob: g.logprob, bytes: [...Buffer.from(g.text)], top_logprobs: [] }];
}

/** How much of a streamed text may be shown: up to a stop string in it, or to the longest tail that may begin one. */
function holdFrom(text: string, stops: readonly string[]): number {
  // the policy hears of the token that completes a stop string after the stream does
  const found = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
  if (found.length > 0) return Math.min(...found);
  for (
    let i = Math.max(0, text.length - Math.max(0, ...stops.map((s) => s.length - 1)));
    i < text.length;
    i++
  ) {
    const tail = text.slice(i);
    if (stops.some((s) => s.startsWith(tail))) return i;
  }
  return text.length;
}

/**
 * One choice of a streamed reply: a chunk a token as the policy samples it (the text it completes,
 * less any tail that may yet become a stop string, and its log-prob), then what the finished
 * generation adds (all of it, for a policy that does not stream), then the finish reason.
 */
class ChoiceStream {
  private text = "";
  private sent = 0;
  private pending: TokenLogprob[] = [];
  private streamed = false;
  private tokens = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly base: Record<string, unknown>,
    private readonly index: number,
    private readonly parsed: Parsed,
  ) {}

  open(): void {
    this.chunk({ role: "assistant", content: "" }, null);
  }

  token(t: StreamedToken): void {
    this.streamed = true;
    this.tokens++;
    this.text += t.text;
    if (this.parsed.logprobs) this.pending.push(t);
    const upTo = holdFrom(this.text, this.parsed.options.stop ?? []);
    if (upTo > this.sent || this.pending.length > 0) {
      this.chunk({ content: this.text.slice(this.sent, upTo) }, null);
      this.sent = upTo;
    }
  }

  close(g: GatedGeneration): void {
    const said = this.text.slice(0, this.sent);
    const rest = g.text.startsWith(said) ? g.text.slice(this.sent) : "";
    // tokens the policy did not stream (all of them, or an early exit's forced tokens and answer)
    if (this.parsed.logprobs) this.pending.push(...(g.tokenLogprobs ?? []).slice(this.tokens));
    if (rest || this.pending.length > 0 || (!this.streamed && this.parsed.logprobs)) {
      const lp = this.streamed || g.tokenLogprobs ? undefined : wireLogprobs(g, this.parsed.topLogprobs);
      this.chunk({ content: rest }, null, lp);
    }
    this.chunk({}, finishReason(g), undefined, exitFields(g));
  }

  private chunk(
    delta: Record<string, string>,
    finish: string | null,
    logprobs?: ReturnType<typeof wireLogprobs>,
    extra: Record<string, number> = {},
  ): void {
    const content = logprobs ?? this.pending.map((t) => wireLogprob(t, this.parsed.topLogprobs));
    this.pending = [];
    writeEvent(this.res, {
      ...this.base,
      choices: [
        {
          index: this.index,
          delta,
          logprobs: this.parsed.logprobs && finish === null && delta.role === undefined ? { content } : null,
          finish_reason: finish,
          ...extra,
        },
      ],
    });
  }
}

/** A running server: its base URL (…/v1) and a close function. */
export interface PolicyServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves `policy` over HTTP: `POST /v1/chat/completions` (OpenAI's request and reply, `n` up to 8;
 * `stream` a chunk a token as the policy samples it, where it streams; `logprobs` and `top_logprobs`
 * per token, where it reports them, else one entry holding the completion's summed log-prob),
 * `GET /v1/models` and `GET /health`. Listens on host:port (port 0: any free port).
 */
export async function createPolicyServer(
  policy: VisionLanguagePolicy,
  host: string,
  port: number,
  options: PolicyServerOptions,
): Promise<PolicyServer> {
  // One batch at a time (the policy owns the device); what arrives while it runs goes next, together.
  const batcher = new PolicyBatcher(policy, {
    maxBatch: Math.max(1, options.maxBatch ?? 32),
    maxInFlight: 1,
    windowMs: Math.max(0, options.batchWindowMs ?? 5),
  });
  const created = Math.floor(Date.now() / 1000);
  const maxConcurrent = Math.max(1, options.maxConcurrent ?? 64);
  let active = 0;
  const server = createServer((req, res) => {
    const start = performance.now();
    const path = (req.url ?? "/").split("?")[0].replace(/\/+$/, "");
    active++;
    // once, when the reply is written (or the client is gone): a client may ask again as soon as it reads
    let counted = true;
    const done = () => {
      if (counted) active--;
      counted = false;
    };
    res.once("finish", done);
    res.once("close", done);
    void (async () => {
      if (req.method === "GET" && (path === "/health" || path === "")) {
        send(res, 200, { status: "ok", model: options.model });
        return;
      }
      if (options.apiKey !== undefined && !authorized(req, options.apiKey)) {
        req.resume();
        sendError(
          res,
          new RequestError("a missing or wrong API key (send Authorization: Bearer KEY)", null, 401),
        );
        return;
      }
      if (active > maxConcurrent) {
        // refused before the body is read: a flood cannot hold more than maxConcurrent bodies
        req.resume();
        res.shouldKeepAlive = false;
        const busy = new RequestError(
          `the server is busy (${maxConcurrent} requests in progress); retry later`,
          null,
          503,
        );
        const status = sendError(res, busy, { "retry-after": "1" });
        options.onRequest?.({ status, ms: performance.now() - start, promptMessages: 0 });
        return;
      }
      if (req.method === "GET" && (path === "/v1/models" || path === "/models")) {
        send(res, 200, {
          object: "list",
          data: [{ id: options.model, object: "model", created, owned_by: "sr2se" }],
        });
        return;
      }
      if (path !== "/v1/chat/completions" && path !== "/chat/completions") {
        sendError(res, new RequestError(`no route ${req.method} ${path}`, null, 404));
        return;
      }
      if (req.method !== "POST") {
        sendError(res, new RequestError(`${path} takes POST`, null, 405));
        return;
      }
      let parsed: Parsed;
      try {
        const text = await readBody(req, options.maxBodyBytes ?? 20 * 2 ** 20);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (err) {
          throw new RequestError(`the request body is not JSON: ${(err as Error).message}`);
        }
        parsed = parseChatRequest(json, options.maxTokensLimit);
        const problem = options.validate?.(parsed.request);
        if (problem) throw new RequestError(problem, "messages");
      } catch (err) {
        const status = sendError(res, err);
        options.onRequest?.({ status, ms: performance.now() - start, promptMessages: 0 });
        return;
      }
      try {
        const id = `chatcmpl-${randomUUID()}`;
        const created = Math.floor(Date.now() / 1000);
        const base = { id, object: "chat.completion.chunk", created, model: options.model };
        const streams = parsed.stream
          ? Array.from({ length: parsed.n }, (_, index) => new ChoiceStream(res, base, index, parsed))
          : [];
        if (parsed.stream) {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          for (const c of streams) c.open();
        }
        const requests = Array.from({ length: parsed.n }, (_, i) => {
          const r: GenerateRequest = parsed.stream
            ? { ...parsed.request, onToken: (t) => streams[i].token(t) }
            : parsed.request;
          return {
            r,
            o: parsed.n === 1 ? parsed.options : { ...parsed.options, seed: (parsed.options.seed ?? 0) + i },
          };
        });
        let gens: GatedGeneration[];
        try {
          gens = await Promise.all(requests.map(({ r, o }) => batcher.generate(r, o)));
        } catch (err) {
          if (!parsed.stream) throw err;
          failStream(res, err);
          throw new StreamFailed((err as Error).message);
        }
        const completionTokens = gens.reduce((a, g) => a + (g.tokens ?? 0), 0);
        const usage = usageOf(parsed.request, completionTokens, options.promptTokens);
        if (parsed.stream) {
          gens.forEach((g, i) => {
            streams[i].close(g);
          });
          if (parsed.includeUsage) writeEvent(res, { ...base, choices: [], usage });
          if (!res.writableEnded) res.end("data: [DONE]\n\n");
        } else {
          send(res, 200, {
            id,
            object: "chat.completion",
            created,
            model: options.model,
            choices: gens.map((g, index) => ({
              index,
              message: { role: "assistant", content: g.text },
              logprobs: parsed.logprobs ? { content: wireLogprobs(g, parsed.topLogprobs) } : null,
              finish_reason: finishReason(g),
              ...exitFields(g),
            })),
            usage,
          });
        }
        options.onRequest?.({
          status: 200,
          ms: performance.now() - start,
          promptMessages: parsed.request.messages.length,
          tokens: completionTokens,
        });
      } catch (err) {
        let status = 500;
        if (res.headersSent) {
          if (!(err instanceof StreamFailed)) failStream(res, err);
        } else status = sendError(res, err);
        options.onRequest?.({
          status,
          ms: performance.now() - start,
          promptMessages: parsed.request.messages.length,
        });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      const why =
        err.code === "EADDRINUSE"
          ? "the port is in use (pass another --port, or 0 for any free one)"
          : err.code === "EACCES"
            ? "permission denied (ports below 1024 need privileges)"
            : err.message;
      reject(new Error(`cannot listen on ${host}:${port}: ${why}`));
    };
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}/v1`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
