import { describe, expect, it } from "vitest";
import {
  type GenerateOptions,
  type GenerateRequest,
  type Generation,
  PolicyBatcher,
  type VisionLanguagePolicy,
} from "../src/index.js";

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ask = (text: string): GenerateRequest => ({ messages: [{ role: "user", content: text }] });

/** A policy that echoes each request, records every call, and holds each call until released. */
class RecordingPolicy implements VisionLanguagePolicy {
  calls: { texts: string[]; options: GenerateOptions | undefined }[] = [];
  running = 0;
  maxRunning = 0;
  private gates: (() => void)[] = [];
  constructor(private readonly hold = false) {}

  async generate(requests: GenerateRequest[], options?: GenerateOptions): Promise<Generation[]> {
    const texts = requests.map((r) => r.messages[0]?.content ?? "");
    this.calls.push({ texts, options });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    if (this.hold) await new Promise<void>((r) => this.gates.push(r));
    else await pause(1);
    this.running--;
    return texts.map((t) => ({ text: `echo ${t}` }));
  }

  /** Lets the oldest held call finish. */
  release(): void {
    this.gates.shift()?.();
  }
}

describe("PolicyBatcher", () => {
  it("sends the requests made in one turn as one call and returns each its own generation", async () => {
    const policy = new RecordingPolicy();
    const batcher = new PolicyBatcher(policy);
    const out = await Promise.all(["a", "b", "c"].map((t) => batcher.generate(ask(t), { temperature: 0 })));
    expect(out.map((g) => g.text)).toEqual(["echo a", "echo b", "echo c"]);
    expect(policy.calls).toEqual([{ texts: ["a", "b", "c"], options: { temperature: 0 } }]);
    expect(batcher.counters).toEqual({ calls: 1, requests: 3 });
  });

  it("splits at maxBatch", async () => {
    const policy = new RecordingPolicy();
    const batcher = new PolicyBatcher(policy, { maxBatch: 4, maxInFlight: 3 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.generate(ask(String(i)))));
    expect(policy.calls.map((c) => c.texts.length)).toEqual([4, 4, 2]);
  });

  it("never mixes requests with different options in one call", async () => {
    const policy = new RecordingPolicy();
    const batcher = new PolicyBatcher(policy, { maxInFlight: 2 });
    await Promise.all([
      batcher.generate(ask("a"), { temperature: 0 }),
      batcher.generate(ask("b"), { temperature: 0.7 }),
      batcher.generate(ask("c"), { temperature: 0, maxTokens: undefined }),
      batcher.generate(ask("d"), { temperature: 0.7, seed: 1 }),
    ]);
    const byOptions = policy.calls.map((c) => [JSON.stringify(c.options), c.texts]);
    expect(byOptions).toHaveLength(3);
    expect(byOptions).toContainEqual([JSON.stringify({ temperature: 0 }), ["a", "c"]]);
    expect(byOptions).toContainEqual([JSON.stringify({ temperature: 0.7 }), ["b"]]);
    expect(byOptions).toContainEqual([JSON.stringify({ temperature: 0.7, seed: 1 }), ["d"]]);
  });

  it("runs at most maxInFlight calls at once", async () => {
    const policy = new RecordingPolicy();
    const batcher = new PolicyBatcher(policy, { maxBatch: 2, maxInFlight: 3 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.generate(ask(String(i)))));
    expect(policy.maxRunning).toBe(3);
    expect(batcher.counters).toEqual({ calls: 10, requests: 20 });
  });

  it("queues requests that arrive while a call runs and sends them together when it ends", async () => {
    const policy = new RecordingPolicy(true);
    const batcher = new PolicyBatcher(policy, { windowMs: 5 });
    const first = batcher.generate(ask("first"));
    await pause(20);
    expect(policy.calls).toHaveLength(1);
    const later = ["x", "y", "z"].map((t) => batcher.generate(ask(t)));
    await pause(20); // far longer than the window: they still wait for the running call
    expect(policy.calls).toHaveLength(1);
    expect(batcher.waiting).toBe(3);
    policy.release();
    await first;
    await pause(5);
    expect(policy.calls.map((c) => c.texts)).toEqual([["first"], ["x", "y", "z"]]);
    policy.release();
    expect((await Promise.all(later)).map((g) => g.text)).toEqual(["echo x", "echo y", "echo z"]);
  });

  it("lets the first request wait windowMs for others", async () => {
    const policy = new RecordingPolicy();
    const batcher = new PolicyBatcher(policy, { windowMs: 40 });
    const a = batcher.generate(ask("a"));
    await pause(10);
    const b = batcher.generate(ask("b"));
    await Promise.all([a, b]);
    expect(policy.calls.map((c) => c.texts)).toEqual([["a", "b"]]);
  });

  it("when a call ends, sends a full batch first, else the option set waiting longest", async () => {
    const policy = new RecordingPolicy(true);
    const batcher = new PolicyBatcher(policy, { maxBatch: 3 });
    const all = [batcher.generate(ask("busy"))];
    await pause(5);
    all.push(batcher.generate(ask("old"), { temperature: 0 }));
    all.push(
      batcher.generate(ask("n1"), { temperature: 1 }),
      batcher.generate(ask("n2"), { temperature: 1 }),
    );
    policy.release();
    await pause(5);
    all.push(batcher.generate(ask("f1"), { seed: 2 }), batcher.generate(ask("f2"), { seed: 2 }));
    all.push(batcher.generate(ask("f3"), { seed: 2 }));
    for (let i = 0; i < 3; i++) {
      policy.release();
      await pause(5);
    }
    await Promise.all(all);
    expect(policy.calls.map((c) => c.texts)).toEqual([["busy"], ["old"], ["f1", "f2", "f3"], ["n1", "n2"]]);
  });

  it("rejects every request of a failed call and keeps serving the next ones", async () => {
    let fail = true;
    const policy: VisionLanguagePolicy = {
      async generate(requests) {
        if (fail) throw new Error("device lost");
        return requests.map(() => ({ text: "ok" }));
      },
    };
    const batcher = new PolicyBatcher(policy);
    const failed = await Promise.allSettled([batcher.generate(ask("a")), batcher.generate(ask("b"))]);
    expect(failed.map((r) => r.status === "rejected" && (r.reason as Error).message)).toEqual([
      "device lost",
      "device lost",
    ]);
    fail = false;
    expect((await batcher.generate(ask("c"))).text).toBe("ok");
  });

  it("one bad request of a batch fails alone: the others are answered", async () => {
    const calls: string[][] = [];
    const policy: VisionLanguagePolicy = {
      async generate(requests) {
        const texts = requests.map((r) => r.messages[0]?.content ?? "");
        calls.push(texts);
        if (texts.includes("<image>")) throw new Error('the prompt holds the text "<image>"');
        return texts.map((t) => ({ text: `echo ${t}` }));
      },
    };
    const batcher = new PolicyBatcher(policy);
    const results = await Promise.allSettled(["a", "<image>", "c"].map((t) => batcher.generate(ask(t))));
    expect(
      results.map((r) => (r.status === "fulfilled" ? r.value.text : (r.reason as Error).message)),
    ).toEqual(["echo a", 'the prompt holds the text "<image>"', "echo c"]);
    expect(calls).toEqual([["a", "<image>", "c"], ["a"], ["<image>"], ["c"]]);
  });

  it("a request that streamed tokens before its batch failed is not sent again", async () => {
    const sent: string[] = [];
    const policy: VisionLanguagePolicy = {
      async generate(requests) {
        sent.push(...requests.map((r) => r.messages[0]?.content ?? ""));
        requests[0]?.onToken?.({ text: "x" } as never);
        if (requests.length > 1) throw new Error("device lost");
        return [{ text: "fine" }];
      },
    };
    const batcher = new PolicyBatcher(policy);
    const tokens: string[] = [];
    const results = await Promise.allSettled([
      batcher.generate({ ...ask("a"), onToken: (t) => tokens.push(t.text) }),
      batcher.generate(ask("b")),
    ]);
    expect(
      results.map((r) => (r.status === "fulfilled" ? r.value.text : (r.reason as Error).message)),
    ).toEqual(["device lost", "fine"]);
    expect(sent).toEqual(["a", "b", "b"]);
    expect(tokens).toEqual(["x"]);
  });

  it("names a policy that returns the wrong number of generations or one without text", async () => {
    const short = new PolicyBatcher({ generate: async () => [{ text: "one" }] });
    await expect(Promise.all([short.generate(ask("a")), short.generate(ask("b"))])).rejects.toThrow(
      "policy.generate returned 1 generations for 2 requests",
    );
    const empty = new PolicyBatcher({ generate: async () => [{} as Generation] });
    await expect(empty.generate(ask("a"))).rejects.toThrow("policy.generate: generation 0 has no text");
    const sync = new PolicyBatcher({
      generate: () => {
        throw new Error("thrown, not rejected");
      },
    });
    await expect(sync.generate(ask("a"))).rejects.toThrow("thrown, not rejected");
  });

  it("refuses a maxBatch, maxInFlight or windowMs out of range", () => {
    const policy = new RecordingPolicy();
    expect(() => new PolicyBatcher(policy, { maxBatch: 0 })).toThrow(/maxBatch/);
    expect(() => new PolicyBatcher(policy, { maxInFlight: 1.5 })).toThrow(/maxInFlight/);
    expect(() => new PolicyBatcher(policy, { windowMs: -1 })).toThrow(/windowMs/);
  });
});
