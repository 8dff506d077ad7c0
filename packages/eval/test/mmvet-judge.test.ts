import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CachedJudge,
  createMmVetJudge,
  JudgmentCache,
  judgmentKey,
  type MmVetSample,
  OpenAIMmVetJudge,
  scoreMmVet,
} from "../src/mmvet/index.js";

/** What the fake endpoint does with the next request. */
type Action = { reply: string } | { status: number; body?: string } | { malformed: string } | { hang: true };

/** A local OpenAI-compatible /chat/completions endpoint on 127.0.0.1 that plays a queue of actions. */
class FakeEndpoint {
  server: Server = createServer((req, res) => this.handle(req, res));
  actions: Action[] = [];
  /** Default when the queue is empty. */
  fallback: Action = { reply: "1.0" };
  requests: { path: string; body: Record<string, unknown>; auth?: string }[] = [];
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let data = "";
    req.on("data", (chunk) => {
      data += chunk;
    });
    req.on("end", () => {
      this.requests.push({ path: req.url ?? "", body: JSON.parse(data), auth: req.headers.authorization });
      const action = this.actions.shift() ?? this.fallback;
      if ("hang" in action) return;
      if ("status" in action) {
        res.writeHead(action.status, { "content-type": "application/json", "retry-after": "0" });
        res.end(action.body ?? '{"error":{"message":"rate limited"}}');
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      if ("malformed" in action) {
        res.end(action.malformed);
        return;
      }
      res.end(
        JSON.stringify({
          id: "chatcmpl-1",
          object: "chat.completion",
          model: "gpt-4-0613-served",
          choices: [
            { index: 0, message: { role: "assistant", content: action.reply }, finish_reason: "stop" },
          ],
        }),
      );
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const endpoint = new FakeEndpoint();
let dir = "";
beforeAll(async () => {
  await endpoint.start();
  dir = await mkdtemp(join(tmpdir(), "mmvet-judge-"));
});
afterAll(async () => {
  await endpoint.stop();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  endpoint.actions = [];
  endpoint.requests = [];
  endpoint.fallback = { reply: "1.0" };
});

const data: MmVetSample[] = [
  { id: "v1_0", question: "What is x in the equation?", answer: "-1<AND>-5", capability: ["math", "ocr"] },
  { id: "v1_1", question: "How many stars?", answer: "3<OR>three", capability: ["rec"] },
];
const predictions = [
  { id: "v1_0", response: "x = -1" },
  { id: "v1_1", response: "three" },
];
const fast = { timeoutMs: 300, maxRetries: 2, backoffMs: 1, apiKey: "sk-test", model: "gpt-4-0613" };

/** Plays `actions` at the endpoint and returns the MM-Vet grading of the second sample alone. */
function gradeSecondSample(actions: Action[], rateLimitSleepMs?: number) {
  endpoint.actions = actions;
  const judge = new OpenAIMmVetJudge({ ...fast, baseURL: endpoint.url });
  return scoreMmVet([data[1]], [predictions[1]], { judge, rateLimitSleepMs });
}

describe("the OpenAI-compatible MM-Vet judge against a local endpoint", () => {
  it("sends the official request: one user message, max_tokens 3, temperature 0, the key", async () => {
    endpoint.actions = [{ reply: "0.5" }, { reply: "1.0" }];
    const judge = new OpenAIMmVetJudge({ ...fast, baseURL: endpoint.url });
    const result = await scoreMmVet(data, predictions, { judge, concurrency: 1 });
    expect(endpoint.requests).toHaveLength(2);
    const first = endpoint.requests[0];
    expect(first?.path).toBe("/v1/chat/completions");
    expect(first?.auth).toBe("Bearer sk-test");
    expect(first?.body).toMatchObject({ model: "gpt-4-0613", max_tokens: 3, temperature: 0 });
    const messages = first?.body.messages as { role: string; content: string }[];
    expect(messages).toHaveLength(1);
    expect(messages[0]?.content.endsWith("\nWhat is x in the equation? | -1 <AND> -5 | x = -1 | ")).toBe(
      true,
    );
    expect(result.grades.v1_0).toEqual({ model: ["gpt-4-0613-served"], content: ["0.5"], score: [0.5] });
    expect(result.capabilities.total.score).toBe(75);
  });

  const retried: {
    name: string;
    actions: Action[];
    requests: number;
    score: number;
    rateLimitSleepMs?: number;
  }[] = [
    {
      name: "a malformed reply (not JSON, then no choices) is retried by the client",
      actions: [{ malformed: "<html>oops" }, { malformed: '{"choices":[]}' }, { reply: "0.3" }],
      requests: 3,
      score: 0.3,
    },
    {
      name: "a 429 is retried (Retry-After honoured) and the grade goes through",
      actions: [{ status: 429 }, { reply: "0.8" }],
      requests: 2,
      score: 0.8,
    },
    {
      name: "429s past the client's retries fall to the official sleep-and-start-over",
      actions: [{ status: 429 }, { status: 429 }, { status: 429 }, { reply: "0.4" }],
      requests: 4,
      score: 0.4,
      rateLimitSleepMs: 5,
    },
    {
      name: "a request that times out is retried",
      actions: [{ hang: true }, { reply: "0.2" }],
      requests: 2,
      score: 0.2,
    },
  ];
  for (const { name, actions, requests, score, rateLimitSleepMs } of retried)
    it(name, async () => {
      const result = await gradeSecondSample(actions, rateLimitSleepMs);
      expect(endpoint.requests).toHaveLength(requests);
      expect(result.grades.v1_1?.score).toEqual([score]);
    });

  it("an unparsable score makes the official retry with the (digit) prompt", async () => {
    const result = await gradeSecondSample([{ reply: "Correctness: 0.6" }, { reply: "0.6" }]);
    const second = endpoint.requests[1]?.body.messages as { content: string }[];
    expect(second[0]?.content.endsWith("\nPredict the correctness of the answer (digit): ")).toBe(true);
    expect(result.grades.v1_1?.score).toEqual([0.6]);
  });

  it("a server error that outlasts the retries fails with the sample id and run", async () => {
    endpoint.fallback = { status: 500, body: "boom" };
    const judge = new OpenAIMmVetJudge({ ...fast, baseURL: endpoint.url });
    await expect(scoreMmVet(data, predictions, { judge, concurrency: 1 })).rejects.toThrow(
      /mmvet: grading sample v1_0 \(run 0\) failed: .*HTTP 500: boom/,
    );
  });

  it("takes base URL, model and key from the environment", async () => {
    const saved = { ...process.env };
    process.env.OPENAI_BASE_URL = endpoint.url;
    process.env.OPENAI_MODEL = "judge-from-env";
    process.env.OPENAI_API_KEY = "sk-env";
    try {
      const judge = await createMmVetJudge({ timeoutMs: 300, maxRetries: 0 });
      await scoreMmVet([data[1] as MmVetSample], [predictions[1] as { id: string; response: string }], {
        judge,
      });
      expect(endpoint.requests[0]?.body.model).toBe("judge-from-env");
      expect(endpoint.requests[0]?.auth).toBe("Bearer sk-env");
    } finally {
      process.env = saved;
    }
  });
});

describe("the judgment cache", () => {
  it("a second run asks the endpoint nothing", async () => {
    const cacheDir = join(dir, "rerun");
    endpoint.fallback = { reply: "0.7" };
    const first = await scoreMmVet(data, predictions, {
      judge: await createMmVetJudge({ ...fast, baseURL: endpoint.url, cacheDir }),
      runs: 3,
    });
    expect(endpoint.requests).toHaveLength(6);
    endpoint.requests = [];
    const judge = await createMmVetJudge({ ...fast, baseURL: endpoint.url, cacheDir });
    const second = await scoreMmVet(data, predictions, { judge, runs: 3 });
    expect(endpoint.requests).toHaveLength(0);
    expect(second.capabilities).toEqual(first.capabilities);
    expect((judge as CachedJudge).hits).toBe(6);
  });

  it("keys by model, prompt, temperature and run", () => {
    const base = judgmentKey("m", "p", 0, 0);
    expect(judgmentKey("m", "p", 0, 0)).toBe(base);
    for (const other of [
      judgmentKey("n", "p", 0, 0),
      judgmentKey("m", "q", 0, 0),
      judgmentKey("m", "p", 0.5, 0),
      judgmentKey("m", "p", 0, 1),
    ]) {
      expect(other).not.toBe(base);
    }
  });

  it("after a crash, the rerun asks only what was not answered, and a torn last line is dropped", async () => {
    const cacheFile = join(dir, "crash", "judgments.jsonl");
    endpoint.actions = [{ reply: "0.9" }];
    endpoint.fallback = { status: 400, body: "bad request" };
    const judge = await createMmVetJudge({ ...fast, baseURL: endpoint.url, cacheFile });
    await expect(scoreMmVet(data, predictions, { judge, concurrency: 1 })).rejects.toThrow(/v1_1/);
    await writeFile(cacheFile, `${await readFile(cacheFile, "utf8")}{"key":"torn`, "utf8");
    endpoint.requests = [];
    endpoint.fallback = { reply: "0.1" };
    const resumed = await scoreMmVet(data, predictions, {
      judge: await createMmVetJudge({ ...fast, baseURL: endpoint.url, cacheFile }),
    });
    expect(endpoint.requests).toHaveLength(1);
    expect(resumed.grades.v1_0?.score).toEqual([0.9]);
    expect(resumed.grades.v1_1?.score).toEqual([0.1]);
    const lines = (await readFile(cacheFile, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => typeof JSON.parse(l).key === "string")).toBe(true);
    expect((await JudgmentCache.open(cacheFile)).size).toBe(2);
  });

  it("a corrupt line in the middle of the cache is reported with its line", async () => {
    const cacheFile = join(dir, "corrupt.jsonl");
    await writeFile(cacheFile, 'not json\n{"key":"k"}\n', "utf8");
    await expect(JudgmentCache.open(cacheFile)).rejects.toThrow(`${cacheFile}:1: invalid JSON`);
    await writeFile(cacheFile, '{"key":"k"}\n{"model":"m"}\n', "utf8");
    await expect(JudgmentCache.open(cacheFile)).rejects.toThrow(`${cacheFile}:2: field "key" is missing`);
  });

  it("a whole last line without its newline is kept, and the next judgment starts a line of its own", async () => {
    const cacheFile = join(dir, "no-newline.jsonl");
    await writeFile(
      cacheFile,
      '{"key":"a","model":"m","run":0,"temperature":0,"id":"1","content":"0.5","replyModel":"m"}',
      "utf8",
    );
    const cache = await JudgmentCache.open(cacheFile);
    expect(cache.get("a")?.content).toBe("0.5");
    await cache.put({
      key: "b",
      model: "m",
      run: 0,
      temperature: 0,
      id: "2",
      content: "1.0",
      replyModel: "m",
    });
    const reopened = await JudgmentCache.open(cacheFile);
    expect([reopened.get("a")?.content, reopened.get("b")?.content]).toEqual(["0.5", "1.0"]);
  });
});
