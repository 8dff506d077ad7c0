import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { PreferencePair } from "@sr2se/core";
import { afterEach, describe, expect, it } from "vitest";
import { OpenAICompatiblePolicy, RefinementEngine, readSamples } from "../src/index.js";
import { readLines, respond, tempDir } from "./helpers.js";

type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

const servers: Array<{ close: () => void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** An OpenAI-compatible server on 127.0.0.1 that answers each request with the next handler (the last repeats). */
async function serve(handlers: Handler[]): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = "";
    req.on("data", (c) => {
      data += c;
    });
    req.on("end", () => {
      const body = JSON.parse(data);
      bodies.push(body);
      open.add(res);
      res.on("close", () => open.delete(res));
      handlers[Math.min(bodies.length - 1, handlers.length - 1)](body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push({
    close: () => {
      for (const r of open) r.destroy();
      server.close();
    },
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies };
}

const reply =
  (content: string, extra: Record<string, unknown> = {}): Handler =>
  (_body, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content } }], ...extra }));
  };

const fast = { model: "test-vlm", apiKey: "k", timeoutMs: 300, backoffMs: 1, maxRetries: 4 };

describe("OpenAICompatiblePolicy on a loopback server", () => {
  it("sends each request's own seed, and the options' seed for a request without one", async () => {
    const { url, bodies } = await serve([reply("\\boxed{1}")]);
    const policy = new OpenAICompatiblePolicy({ ...fast, baseURL: url });
    const messages = [{ role: "user" as const, content: "How many?" }];
    await policy.generate([{ messages, seed: 11 }, { messages }, { messages, seed: 0 }], { seed: 5 });
    expect(bodies.map((b) => b.seed as number).sort((a, b) => a - b)).toEqual([0, 5, 11]);
  });

  it("sends the image as a base64 data URL part of the first user turn, with the sampling options", async () => {
    const { url, bodies } = await serve([
      reply("\\boxed{1}", { usage: { prompt_tokens: 9, completion_tokens: 4 } }),
    ]);
    const policy = new OpenAICompatiblePolicy({ ...fast, baseURL: url });
    const [g] = await policy.generate([{ image: PNG, messages: [{ role: "user", content: "How many?" }] }], {
      temperature: 0.5,
      maxTokens: 32,
    });
    expect(g).toEqual({ text: "\\boxed{1}", tokens: 4 });
    expect(bodies[0]).toMatchObject({
      model: "test-vlm",
      temperature: 0.5,
      max_tokens: 32,
      messages: [
        {
          role: "user",
          content: [
            {
              type: "image_url",
              image_url: { url: `data:image/png;base64,${Buffer.from(PNG).toString("base64")}` },
            },
            { type: "text", text: "How many?" },
          ],
        },
      ],
    });
  });

  it("sends a request without an image as plain text (the self-reward check)", async () => {
    const { url, bodies } = await serve([reply("\\boxed{yes}")]);
    const policy = new OpenAICompatiblePolicy({ ...fast, baseURL: url });
    await policy.generate([{ messages: [{ role: "user", content: "Text description: …" }] }]);
    expect(bodies[0].messages).toEqual([{ role: "user", content: "Text description: …" }]);
  });

  it("gets through a malformed reply, a 429 and a timeout by retrying", async () => {
    const { url, bodies } = await serve([
      (_b, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{not json");
      },
      (_b, res) => {
        res.writeHead(429, { "retry-after": "0" });
        res.end("slow down");
      },
      () => {}, // never answers: the client times out
      (_b, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ choices: [] }));
      },
      reply("\\boxed{3}"),
    ]);
    const policy = new OpenAICompatiblePolicy({ ...fast, baseURL: url });
    const [g] = await policy.generate([{ messages: [{ role: "user", content: "q" }] }]);
    expect(g.text).toBe("\\boxed{3}");
    expect(bodies.length).toBe(5);
  });

  it("gives up with the endpoint and the reason after the retries", async () => {
    const { url } = await serve([
      (_b, res) => {
        res.writeHead(503);
        res.end("overloaded");
      },
    ]);
    const policy = new OpenAICompatiblePolicy({ ...fast, baseURL: url, maxRetries: 1 });
    await expect(policy.generate([{ messages: [{ role: "user", content: "q" }] }])).rejects.toThrow(
      /chat\/completions: gave up after 2 tries: .*HTTP 503: overloaded/,
    );
  });

  it("sums token logprobs when the server returns them", async () => {
    const { url } = await serve([
      reply("\\boxed{1}", {}),
      (_b, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [
              { message: { content: "x" }, logprobs: { content: [{ logprob: -0.5 }, { logprob: -1.25 }] } },
            ],
          }),
        );
      },
    ]);
    const policy = new OpenAICompatiblePolicy({ ...fast, baseURL: url });
    const [a, b] = await policy.generate([
      { messages: [{ role: "user", content: "q" }] },
      { messages: [{ role: "user", content: "q" }] },
    ]);
    expect([a.logprob, b.logprob].sort()).toEqual([-1.75, undefined].sort());
  });

  it("takes base URL, model and key from the environment when options leave them out", async () => {
    const { url, bodies } = await serve([reply("\\boxed{1}")]);
    const saved = { ...process.env };
    Object.assign(process.env, {
      OPENAI_BASE_URL: url,
      OPENAI_MODEL: "env-model",
      OPENAI_API_KEY: "env-key",
    });
    try {
      const policy = new OpenAICompatiblePolicy({ timeoutMs: 300 });
      await policy.generate([{ messages: [{ role: "user", content: "q" }] }]);
      expect(bodies[0].model).toBe("env-model");
    } finally {
      for (const k of ["OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_API_KEY"]) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it("names an image file that does not exist", async () => {
    const { url } = await serve([reply("x")]);
    const policy = new OpenAICompatiblePolicy({ ...fast, baseURL: url });
    await expect(
      policy.generate([{ image: "/nope/1.png", messages: [{ role: "user", content: "q" }] }]),
    ).rejects.toThrow("image /nope/1.png: no such file");
  });

  it("drives the engine end to end: pairs from a served VLM that is wrong first and right after the refinement turn", async () => {
    let n = 0;
    const server = await serve([
      (body, res) => {
        const messages = body.messages as Array<{ role: string; content: unknown }>;
        const textOnly = typeof messages[0].content === "string";
        const refined = messages.some((m) => m.role === "assistant");
        const content = textOnly
          ? "<think>from text</think>\\boxed{2}"
          : refined
            ? respond("two red circles", "2")
            : respond("three blue squares", "3");
        if (++n % 5 === 0) {
          res.writeHead(429);
          res.end("busy");
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            choices: [{ message: { content } }],
            usage: { prompt_tokens: 1, completion_tokens: 7 },
          }),
        );
      },
    ]);
    const dir = await tempDir();
    await mkdir(path.join(dir, "images"));
    const lines: string[] = [];
    for (let i = 0; i < 12; i++) {
      await writeFile(path.join(dir, "images", `${i}.png`), PNG);
      lines.push(
        JSON.stringify({
          id: `s-${i}`,
          image: `images/${i}.png`,
          question: "How many?",
          answer: "2",
          answer_type: "integer",
        }),
      );
    }
    await writeFile(path.join(dir, "samples.jsonl"), `${lines.join("\n")}\n`);
    const policy = new OpenAICompatiblePolicy({
      ...fast,
      baseURL: server.url,
      maxRetries: 8,
      concurrency: 3,
    });
    const engine = new RefinementEngine({ policy, policyName: "test-vlm", rounds: 2 });
    const out = path.join(dir, "pairs.jsonl");
    const { stats, errors } = await engine.run({
      samples: readSamples(path.join(dir, "samples.jsonl")),
      out,
    });
    expect(errors).toEqual([]);
    const pairs = await readLines<PreferencePair>(out);
    expect(pairs.length).toBe(12);
    for (const p of pairs) {
      expect(p.meta).toMatchObject({
        round: 1,
        chosen_answer: "2",
        rejected_answer: "3",
        policy: "test-vlm",
      });
    }
    expect(stats).toMatchObject({
      samples: 12,
      pairs: 12,
      tokens: { generated: 12 * 2 * 7, self_reward: 12 * 7 },
    });
    const imageBodies = server.bodies.filter((b) =>
      Array.isArray((b.messages as Array<{ content: unknown }>)[0].content),
    );
    expect(imageBodies.length).toBeGreaterThanOrEqual(24);
  });
});
