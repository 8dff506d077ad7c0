import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAIChatClient, OpenAIError } from "../src/index.js";

// A loopback server playing an OpenAI-compatible endpoint; each test queues the replies it wants.
type Reply = { status?: number; body?: string; delayMs?: number; headers?: Record<string, string> };
let queue: Reply[] = [];
const seen: Array<{ auth?: string; body: Record<string, unknown> }> = [];
let server: Server;
let baseURL: string;

const ok = (text: string) =>
  JSON.stringify({
    choices: [{ message: { role: "assistant", content: text } }],
    usage: { prompt_tokens: 3, completion_tokens: 2 },
  });

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += d));
    req.on("end", () => {
      seen.push({ auth: req.headers.authorization, body: JSON.parse(data) });
      const r = queue.shift() ?? { body: ok("default") };
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(r.status ?? 200, { "content-type": "application/json", ...r.headers });
        res.end(r.body ?? "");
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const client = (extra = {}) =>
  new OpenAIChatClient({ baseURL, model: "m", apiKey: "k", backoffMs: 5, ...extra });

describe("OpenAIChatClient", () => {
  it("sends the model, messages and options and returns the text", async () => {
    queue = [{ body: ok("hello") }];
    const r = await client().chat([{ role: "user", content: "hi" }], { temperature: 0, maxTokens: 5 });
    expect(r.text).toBe("hello");
    expect(r.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2 });
    const last = seen[seen.length - 1];
    expect(last.auth).toBe("Bearer k");
    expect(last.body).toMatchObject({ model: "m", temperature: 0, max_tokens: 5 });
  });

  it("retries a 429 and a 500, then succeeds", async () => {
    queue = [
      { status: 429, body: "slow down", headers: { "retry-after": "0" } },
      { status: 500, body: "oops" },
      { body: ok("fine") },
    ];
    const before = seen.length;
    expect((await client().chat([{ role: "user", content: "x" }])).text).toBe("fine");
    expect(seen.length - before).toBe(3);
  });

  it("retries a malformed reply, then gives up with a clear error", async () => {
    queue = [{ body: "{not json" }, { body: JSON.stringify({ choices: [] }) }];
    const err = await client({ maxRetries: 1 })
      .chat([{ role: "user", content: "x" }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAIError);
    expect(err.message).toMatch(/gave up after 2 tries: .*malformed reply/);
  });

  it("times out a request that does not answer, and retries it", async () => {
    queue = [{ delayMs: 500, body: ok("late") }, { body: ok("on time") }];
    const r = await client({ timeoutMs: 100 }).chat([{ role: "user", content: "x" }]);
    expect(r.text).toBe("on time");
  });

  it("asks for log-probs and sums them per choice", async () => {
    queue = [
      {
        body: JSON.stringify({
          choices: [
            {
              message: { content: "a b" },
              logprobs: {
                content: [
                  { token: "a", logprob: -0.5 },
                  { token: " b", logprob: -0.25 },
                ],
              },
            },
            { message: { content: "c" }, logprobs: null },
          ],
        }),
      },
    ];
    const r = await client().chat([{ role: "user", content: "x" }], {
      logprobs: true,
      n: 2,
      extraBody: { top_k: 5 },
    });
    expect(r.logprobs).toEqual([-0.75, undefined]);
    expect(r.texts).toEqual(["a b", "c"]);
    expect(seen[seen.length - 1].body).toMatchObject({ logprobs: true, n: 2, top_k: 5 });
  });

  it("does not retry a 400 and names the status", async () => {
    queue = [{ status: 400, body: '{"error":"bad model"}' }];
    const err = await client()
      .chat([{ role: "user", content: "x" }])
      .catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/HTTP 400: \{"error":"bad model"\}/);
  });

  it("caps requests in flight", async () => {
    queue = Array.from({ length: 6 }, () => ({ delayMs: 50, body: ok("x") }));
    let inFlight = 0;
    let peak = 0;
    const counting: typeof fetch = async (...args) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await fetch(...args);
      } finally {
        inFlight--;
      }
    };
    const c = client({ concurrency: 2, fetch: counting });
    await Promise.all(Array.from({ length: 6 }, () => c.chat([{ role: "user", content: "x" }])));
    expect(peak).toBe(2);
  });

  it("requires a base URL and a model", () => {
    const saved = { ...process.env };
    delete process.env.OPENAI_BASE_URL;
    delete process.env.OPENAI_MODEL;
    expect(() => new OpenAIChatClient({ model: "m" })).toThrow(/no base URL/);
    expect(() => new OpenAIChatClient({ baseURL })).toThrow(/no model/);
    process.env = saved;
  });
});

// Endpoints that misbehave without end: each path is one fault.
describe("OpenAIChatClient against hostile endpoints", () => {
  let hostile: Server;
  let base = "";
  const hits = new Map<string, number>();
  beforeAll(async () => {
    hostile = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const fault = (req.url ?? "").split("/")[1] as string;
        hits.set(fault, (hits.get(fault) ?? 0) + 1);
        if (fault === "busy") {
          res.writeHead(429, { "retry-after": "3600" }).end("busy");
        } else if (fault === "busy-no-hint") {
          res.writeHead(429).end("busy");
        } else if (fault === "endless") {
          res.writeHead(200, { "content-type": "application/json" });
          res.write('{"choices":[{"message":{"content":"');
          const chunk = "a".repeat(64 * 1024);
          const pump = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once("drain", pump);
          };
          pump();
        } else if (fault === "truncated") {
          res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
          res.write('{"choices":[{"mess');
          setTimeout(() => res.destroy(), 10);
        } else if (fault === "length") {
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ choices: [{ message: { content: "0." }, finish_reason: "length" }] }));
        }
      });
    });
    await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    hostile.closeAllConnections();
    hostile.close();
  });
  const at = (fault: string, extra = {}) =>
    new OpenAIChatClient({ baseURL: `${base}/${fault}`, model: "m", backoffMs: 5, ...extra });
  const ask = (c: OpenAIChatClient, options = {}) =>
    c.chat([{ role: "user", content: "x" }], options).catch((e: unknown) => e as OpenAIError);

  it("gives up at once on a 429 whose Retry-After passes the deadline", async () => {
    const started = Date.now();
    const err = await ask(at("busy", { deadlineMs: 2000 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(err).toBeInstanceOf(OpenAIError);
    expect((err as OpenAIError).status).toBe(429);
    expect((err as Error).message).toMatch(
      /gave up after 1 try: HTTP 429: busy \(the next try would pass the 2000 ms deadline/,
    );
  }, 10_000);

  it("stops retrying a server that answers 429 forever at the total deadline", async () => {
    const started = Date.now();
    const err = await ask(at("busy-no-hint", { deadlineMs: 400, maxRetries: 1000 }));
    expect(Date.now() - started).toBeLessThan(1500);
    expect((err as Error).message).toMatch(
      /gave up after \d+ tries: HTTP 429: busy \(the next try would pass the 400 ms deadline/,
    );
    // spent retries: the caller's other requests to this endpoint stop too
    expect((err as OpenAIError).fatal).toBe(true);
  }, 10_000);

  it("refuses an endless body at maxResponseBytes, without retrying it", async () => {
    const started = Date.now();
    const err = await ask(at("endless", { maxResponseBytes: 1 << 20, timeoutMs: 30_000 }));
    expect(Date.now() - started).toBeLessThan(5000);
    expect((err as Error).message).toMatch(
      /the reply is longer than 1048576 bytes \(an endless body\?\); refused/,
    );
    expect(hits.get("endless")).toBe(1);
  }, 40_000);

  it("retries a truncated body, then names the fault", async () => {
    const err = await ask(at("truncated", { maxRetries: 2 }));
    expect((err as Error).message).toMatch(/gave up after 3 tries: /);
    expect(hits.get("truncated")).toBe(3);
  });

  it('returns finish_reason "length", and refuses it when asked, naming max_tokens', async () => {
    const r = await at("length").chat([{ role: "user", content: "x" }], { maxTokens: 3 });
    expect(r.finishReasons).toEqual(["length"]);
    const err = await ask(at("length"), { maxTokens: 3, refuseLength: true });
    expect((err as Error).message).toMatch(/cut at max_tokens 3 \(finish_reason "length"\)/);
  });
});
