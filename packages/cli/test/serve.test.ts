// `sr2se serve`: the OpenAI-compatible server. The protocol runs against a scripted policy in process
// (replies, batching, images, streaming, every refusal); one test serves a real tiny VLM from the CLI
// and asks it through the same client `sr2se ipr generate --endpoint` uses.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type GenerateOptions,
  type GenerateRequest,
  type Generation,
  imageDataUrl,
  type TokenLogprob,
} from "@sr2se/core";
import { OpenAICompatiblePolicy, ScriptedPolicy } from "@sr2se/ipr";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPolicyServer, type PolicyServer, parseChatRequest } from "../src/serve/server.js";
import { bin, sr2seAsync } from "./cli.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

describe("the OpenAI-compatible server, on a scripted policy", () => {
  // echoes what it was given, so replies show what reached the policy
  const policy = new ScriptedPolicy(
    ({ request, options }) => ({
      text: `${request.messages.map((m) => `${m.role}:${m.content}`).join("|")} image=${request.image ? (request.image as Uint8Array).length : "none"} t=${options.temperature ?? "-"} seed=${options.seed ?? "-"}`,
      tokens: 7,
      logprob: -1.5,
    }),
    { record: true },
  );
  let served: PolicyServer;
  const post = (body: unknown, route = "/chat/completions") =>
    fetch(`${served.url}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    served = await createPolicyServer(policy, "127.0.0.1", 0, { model: "scripted", batchWindowMs: 30 });
  });
  afterAll(() => served.close());

  it("answers a chat completion in OpenAI's shape, and lists its model", async () => {
    const res = await post({
      model: "any",
      messages: [{ role: "user", content: "Is there a star?" }],
      temperature: 0.5,
    });
    expect(res.status).toBe(200);
    const json = await res.json();
    expect(json.object).toBe("chat.completion");
    expect(json.model).toBe("scripted");
    expect(json.choices).toHaveLength(1);
    expect(json.choices[0].message).toEqual({
      role: "assistant",
      content: "user:Is there a star? image=none t=0.5 seed=-",
    });
    expect(json.choices[0].finish_reason).toBe("stop");
    expect(json.usage.completion_tokens).toBe(7);
    const models = await (await fetch(`${served.url}/models`)).json();
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(["scripted"]);
    expect((await fetch(served.url.replace("/v1", "/health"))).status).toBe(200);
  });

  it("takes the image from a data URL part and joins the text parts", async () => {
    const res = await post({
      messages: [
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url: imageDataUrl(PNG) } },
            { type: "text", text: "What is it?" },
          ],
        },
      ],
    });
    const json = await res.json();
    expect(json.choices[0].message.content).toBe("system:Be brief.|user:What is it? image=12 t=- seed=-");
    const last = policy.log.at(-1);
    expect([...((last?.request.image as Uint8Array) ?? [])]).toEqual([...PNG]);
  });

  it("decodes requests that arrive together as one batch, grouped by their options", async () => {
    const before = policy.calls;
    const ask = (t: number) => post({ messages: [{ role: "user", content: `q${t}` }], temperature: t });
    const replies = await Promise.all([ask(0), ask(0), ask(0), ask(1)]);
    const texts = await Promise.all(replies.map(async (r) => (await r.json()).choices[0].message.content));
    expect(texts).toEqual([
      "user:q0 image=none t=0 seed=-",
      "user:q0 image=none t=0 seed=-",
      "user:q0 image=none t=0 seed=-",
      "user:q1 image=none t=1 seed=-",
    ]);
    expect(policy.calls - before).toBe(2);
  });

  it("queues requests that arrive while a batch runs and sends them together when it ends", async () => {
    const sizes: number[] = [];
    const slow = {
      async generate(requests: { messages: { content: string }[] }[]) {
        sizes.push(requests.length);
        await new Promise((r) => setTimeout(r, 150));
        return requests.map((r) => ({ text: r.messages[0].content }));
      },
    };
    const busy = await createPolicyServer(slow, "127.0.0.1", 0, { model: "slow", batchWindowMs: 10 });
    try {
      const ask = (q: string) =>
        fetch(`${busy.url}/chat/completions`, {
          method: "POST",
          body: JSON.stringify({ messages: [{ role: "user", content: q }] }),
        }).then(async (r) => (await r.json()).choices[0].message.content);
      const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const first = ask("a");
      await pause(40); // the first batch is running now; the next three come further apart than the window
      const b = ask("b");
      await pause(25);
      const c = ask("c");
      await pause(25);
      const later = await Promise.all([b, c, ask("d")]);
      expect(await first).toBe("a");
      expect(later).toEqual(["b", "c", "d"]);
      expect(sizes).toEqual([1, 3]);
    } finally {
      await busy.close();
    }
  });

  it("gives n choices with consecutive seeds, log-probs on request, and streams as server-sent events", async () => {
    const json = await (
      await post({ messages: [{ role: "user", content: "x" }], n: 2, seed: 5, logprobs: true })
    ).json();
    expect(json.choices.map((c: { message: { content: string } }) => c.message.content)).toEqual([
      "user:x image=none t=- seed=5",
      "user:x image=none t=- seed=6",
    ]);
    expect(json.choices[0].logprobs.content[0].logprob).toBe(-1.5);
    const text = await (await post({ messages: [{ role: "user", content: "s" }], stream: true })).text();
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(chunks.map((c) => c.object)).toEqual(Array(3).fill("chat.completion.chunk"));
    // a policy that does not stream: the role, then its whole text, then the finish reason
    expect(chunks.map((c) => c.choices[0].delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "user:s image=none t=- seed=-" },
      {},
    ]);
    expect(chunks[2].choices[0].finish_reason).toBe("stop");
  });

  it("works with the OpenAI client sr2se itself uses (ipr generate --endpoint)", async () => {
    const client = new OpenAICompatiblePolicy({ baseURL: served.url, model: "scripted", maxRetries: 0 });
    const [g] = await client.generate([{ image: PNG, messages: [{ role: "user", content: "Where?" }] }], {
      temperature: 0,
    });
    expect(g.text).toBe("user:Where? image=12 t=0 seed=-");
    expect(g.tokens).toBe(7);
  });

  it.each([
    ["a body that is not JSON", "{nope", 400, /not JSON/, null],
    ["no messages", { messages: [] }, 400, /messages must be a non-empty array/, "messages"],
    [
      "a bad role",
      { messages: [{ role: "robot", content: "x" }] },
      400,
      /role must be system, user or assistant/,
      "messages[0].role",
    ],
    [
      "an image by URL",
      {
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }],
      },
      400,
      /must be a base64 data URL/,
      "messages[0].content[0].image_url",
    ],
    [
      "two images",
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url: imageDataUrl(PNG) } },
              { type: "image_url", image_url: { url: imageDataUrl(PNG) } },
            ],
          },
        ],
      },
      400,
      /one image a conversation/,
      "messages[0].content[1]",
    ],
    [
      "max_tokens out of range",
      { messages: [{ role: "user", content: "x" }], max_tokens: 0 },
      400,
      /max_tokens must be an integer/,
      "max_tokens",
    ],
    [
      "a bad temperature",
      { messages: [{ role: "user", content: "x" }], temperature: "hot" },
      400,
      /temperature must be a number/,
      "temperature",
    ],
    [
      "too many stops",
      { messages: [{ role: "user", content: "x" }], stop: ["a", "b", "c", "d", "e"] },
      400,
      /stop must be/,
      "stop",
    ],
  ])("refuses %s with an error naming the field", async (_what, body, status, message, param) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    const json = await res.json();
    expect(json.error.message).toMatch(message);
    expect(json.error.type).toBe("invalid_request_error");
    expect(json.error.param).toBe(param);
  });

  it("says which routes and methods exist, and caps the body size", async () => {
    expect((await post({}, "/completions")).status).toBe(404);
    expect((await fetch(`${served.url}/chat/completions`)).status).toBe(405);
    const small = await createPolicyServer(policy, "127.0.0.1", 0, { model: "m", maxBodyBytes: 100 });
    try {
      const res = await fetch(`${small.url}/chat/completions`, {
        method: "POST",
        body: JSON.stringify({ messages: [{ role: "user", content: "x".repeat(500) }] }),
      });
      expect(res.status).toBe(413);
      expect((await res.json()).error.message).toMatch(/exceeds 100 bytes/);
    } finally {
      await small.close();
    }
  });

  it("says when its port is taken", async () => {
    const port = Number(new URL(served.url).port);
    await expect(createPolicyServer(policy, "127.0.0.1", port, { model: "again" })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+: the port is in use/,
    );
  });

  it("parses a request without a server", () => {
    const p = parseChatRequest({
      messages: [{ role: "user", content: "hi" }],
      max_completion_tokens: 12,
      stop: "\n",
    });
    expect(p.options).toEqual({ maxTokens: 12, stop: ["\n"] });
    expect(p.request).toEqual({ messages: [{ role: "user", content: "hi" }] });
  });
});

describe("per-token streaming and log-probs, on a policy that streams", () => {
  const PIECES = ["Hel", "lo", " wor", "l", "d", "!"];
  const entry = (p: string, k: number) => ({ token: p, logprob: -0.1 * (k + 1), bytes: [...Buffer.from(p)] });
  let release: () => void = () => {};
  let gateOpen = Promise.resolve();
  // samples the pieces one by one, pausing after the first until the test lets it go on; a stop
  // string cuts the text the way a real policy's does
  const policy = {
    async generate(requests: GenerateRequest[], options: GenerateOptions = {}): Promise<Generation[]> {
      return Promise.all(
        requests.map(async (r) => {
          let text = "";
          const logprobs: TokenLogprob[] = [];
          for (const [k, p] of PIECES.entries()) {
            const t = { ...entry(p, k), top: [entry(p, k), { ...entry("x", 9), logprob: -5 }] };
            logprobs.push(t);
            r.onToken?.({ ...t, text: p });
            text += p;
            const cut = (options.stop ?? []).map((s) => text.indexOf(s)).filter((i) => i >= 0);
            if (cut.length > 0)
              return { text: text.slice(0, Math.min(...cut)), tokens: k + 1, tokenLogprobs: logprobs };
            if (k === 0) await gateOpen;
          }
          return { text, tokens: PIECES.length, tokenLogprobs: options.logprobs ? logprobs : undefined };
        }),
      );
    },
  };
  let served: PolicyServer;
  const post = (body: unknown) =>
    fetch(`${served.url}/chat/completions`, { method: "POST", body: JSON.stringify(body) });
  const chunksOf = (text: string) =>
    text
      .split("\n\n")
      .filter((e) => e && e !== "data: [DONE]")
      .map((e) => JSON.parse(e.slice(6)));

  beforeAll(async () => {
    served = await createPolicyServer(policy, "127.0.0.1", 0, { model: "streamer", batchWindowMs: 0 });
  });
  afterAll(() => served.close());

  it("sends each token's chunk as it is sampled, before the generation ends", async () => {
    gateOpen = new Promise((r) => {
      release = r;
    });
    const res = await post({ messages: [{ role: "user", content: "hi" }], stream: true });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let seen = "";
    const timeout = setTimeout(() => release(), 5000);
    // the policy is paused after its first token: that token must already be on the wire
    while (!seen.includes('"content":"Hel"')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += Buffer.from(value).toString();
    }
    expect(seen).toContain('"content":"Hel"');
    expect(seen).not.toContain("[DONE]");
    clearTimeout(timeout);
    release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += Buffer.from(value).toString();
    }
    const chunks = chunksOf(seen);
    expect(chunks.map((c) => c.choices[0].delta.content ?? null)).toEqual(["", ...PIECES, null]);
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
  });

  it("gives log-probs per token with top_logprobs, streamed and whole, and usage at the end on request", async () => {
    const body = { messages: [{ role: "user", content: "hi" }], logprobs: true, top_logprobs: 1 };
    const whole = await (await post(body)).json();
    expect(whole.choices[0].logprobs.content).toEqual(
      PIECES.map((p, k) => ({ ...entry(p, k), top_logprobs: [entry(p, k)] })),
    );
    const chunks = chunksOf(
      await (await post({ ...body, stream: true, stream_options: { include_usage: true } })).text(),
    );
    const streamed = chunks.flatMap((c) => c.choices[0]?.logprobs?.content ?? []);
    expect(streamed).toEqual(whole.choices[0].logprobs.content);
    expect(chunks.at(-1).choices).toEqual([]);
    expect(chunks.at(-1).usage.completion_tokens).toBe(PIECES.length);
  });

  it("holds back text that may become a stop string, so the stream never shows it", async () => {
    const chunks = chunksOf(
      await (await post({ messages: [{ role: "user", content: "hi" }], stream: true, stop: ["ld"] })).text(),
    );
    const text = chunks.map((c) => c.choices[0].delta.content ?? "").join("");
    expect(text).toBe("Hello wor");
  });

  it("ends a stream whose policy fails midway with an error event, and stays up", async () => {
    const failing = {
      async generate(requests: GenerateRequest[]): Promise<Generation[]> {
        requests[0].onToken?.({ ...entry("Hel", 0), text: "Hel" });
        throw new Error("the device was lost");
      },
    };
    const broken = await createPolicyServer(failing, "127.0.0.1", 0, { model: "broken" });
    try {
      const ask = () =>
        fetch(`${broken.url}/chat/completions`, {
          method: "POST",
          body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], stream: true }),
        }).then((r) => r.text());
      const text = await ask();
      expect(text).toContain('"content":"Hel"');
      expect(text).toMatch(/data: \{"error":\{"message":"the device was lost","type":"server_error"/);
      expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
      expect(await ask()).toContain("the device was lost");
    } finally {
      await broken.close();
    }
  });

  it("refuses top_logprobs without logprobs, as OpenAI does", async () => {
    const res = await post({ messages: [{ role: "user", content: "hi" }], top_logprobs: 2 });
    expect(res.status).toBe(400);
    expect((await res.json()).error.param).toBe("top_logprobs");
  });
});

it("sr2se serve answers a real VLM's chat completions and stops on SIGTERM", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sr2se-serve-"));
  writeFileSync(path.join(dir, "world.json"), JSON.stringify(EXISTENCE_WORLD));
  const data = path.join(dir, "data");
  const synth = await sr2seAsync([
    "data",
    "synth",
    "--out",
    data,
    "--train",
    "32",
    "--val",
    "4",
    "--test",
    "4",
    "--seed",
    "3",
    "--config",
    path.join(dir, "world.json"),
  ]);
  expect(synth.status, synth.stderr).toBe(0);
  writeFileSync(
    path.join(dir, "tiny.json"),
    JSON.stringify({ ...TINY_SFT, training: { ...TINY_SFT.training, steps: 20 } }),
  );
  const sft = path.join(dir, "sft");
  const train = await sr2seAsync([
    "train",
    "sft",
    "--data",
    data,
    "--out",
    sft,
    "--config",
    path.join(dir, "tiny.json"),
  ]);
  expect(train.status, train.stderr).toBe(0);

  const serve = async (...extra: string[]) => {
    const child = spawn(process.execPath, [
      bin,
      "serve",
      "--ckpt",
      sft,
      "--port",
      "0",
      "--name",
      "tiny",
      ...extra,
    ]);
    const log = { stderr: "" };
    child.stderr.on("data", (d) => (log.stderr += d));
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.on("close", (code) => reject(new Error(`serve exited ${code}: ${log.stderr}`)));
    });
    return { child, log, ...(JSON.parse(line) as { url: string; model: string }) };
  };
  const { child, log, url, model } = await serve();
  expect(model).toBe("tiny");
  const image = readFileSync(path.join(data, "images", readdirSync(path.join(data, "images"))[0]));
  const client = new OpenAICompatiblePolicy({ baseURL: url, model, maxRetries: 0 });
  const gens = await client.generate(
    [
      { image, messages: [{ role: "user", content: "Is there a star?" }] },
      { messages: [{ role: "user", content: "Is there a circle?" }] },
    ],
    { maxTokens: 16, temperature: 0 },
  );
  for (const g of gens) {
    expect(typeof g.text).toBe("string");
    expect(g.tokens).toBeGreaterThan(0);
    expect(g.tokens).toBeLessThanOrEqual(16);
  }
  // raw OpenAI wire format: a chunk a token, each with its log-prob and top alternatives
  const ask = (at: string, extra: Record<string, unknown>) =>
    fetch(`${at}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        messages: [{ role: "user", content: "Is there a circle?" }],
        max_tokens: 12,
        logprobs: true,
        top_logprobs: 2,
        ...extra,
      }),
    });
  const whole = await (await ask(url, {})).json();
  const events = (await (await ask(url, { stream: true })).text()).split("\n\n").filter(Boolean);
  expect(events.at(-1)).toBe("data: [DONE]");
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  const entries = whole.choices[0].logprobs.content;
  expect(entries.length).toBe(
    whole.usage.completion_tokens - (whole.choices[0].finish_reason === "stop" ? 1 : 0),
  );
  expect(chunks.length).toBeGreaterThanOrEqual(entries.length + 1);
  expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe(whole.choices[0].message.content);
  const streamed = chunks.flatMap((c) => c.choices[0].logprobs?.content ?? []);
  expect(streamed.map((t: { token: string }) => t.token)).toEqual(
    entries.map((t: { token: string }) => t.token),
  );
  for (const t of entries) expect(t.top_logprobs).toHaveLength(2);
  const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.kill("SIGTERM");
  expect(await closed).toBe(0);
  expect(log.stderr).toMatch(/serve: 200 in \d+ ms/);

  // with a gate whose τ every trial clears, each reply is the answer at step 0, and says so
  const gated = await serve("--gate", "probability", "--tau", "0");
  const exit = await (await ask(gated.url, { stream: false })).json();
  expect(exit.choices[0].exit_level).toBe(0);
  expect(exit.choices[0].message.content.startsWith("\\boxed{")).toBe(true);
  // streamed, the exit's forced tokens and answer arrive before the finish chunk, which carries the exit
  const gatedEvents = (await (await ask(gated.url, { stream: true })).text()).split("\n\n").filter(Boolean);
  const gatedChunks = gatedEvents.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
  expect(gatedChunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe(
    exit.choices[0].message.content,
  );
  expect(gatedChunks.flatMap((c) => c.choices[0].logprobs?.content ?? [])).toEqual(
    exit.choices[0].logprobs.content,
  );
  expect(gatedChunks.at(-1).choices[0].exit_level).toBe(0);
  const gatedClosed = new Promise<number | null>((resolve) => gated.child.on("close", resolve));
  gated.child.kill("SIGTERM");
  expect(await gatedClosed).toBe(0);
  expect(gated.log.stderr).toMatch(/serve: gate probability, τ = 0 \(flag\)/);
}, 120_000);
