import { describe, expect, it } from "vitest";
import { isFatalEndpointError, mapPool, OpenAIError } from "../src/index.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("mapPool", () => {
  it("returns results in the items' order with at most `limit` in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapPool([5, 1, 4, 2, 3, 0], 3, async (x, i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick(x * 3);
      inFlight--;
      return `${i}:${x * 10}`;
    });
    expect(out).toEqual(["0:50", "1:10", "2:40", "3:20", "4:30", "5:0"]);
    expect(most).toBe(3);
  });

  it("stops at the first error: nothing starts after it, the calls in flight are aborted and settle first", async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const aborted: number[] = [];
    const items = Array.from({ length: 100 }, (_, i) => i);
    const run = mapPool(items, 4, async (x, _i, signal) => {
      started.push(x);
      try {
        if (x === 2) {
          await tick(5);
          throw new OpenAIError("http://judge/v1/chat/completions: HTTP 401: bad key", 401);
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 50);
          signal.addEventListener("abort", () => {
            clearTimeout(t);
            aborted.push(x);
            resolve();
          });
        });
        return x;
      } finally {
        settled.push(x);
      }
    });
    await expect(run).rejects.toThrow(/HTTP 401/);
    // the first four started; the error stopped the rest
    expect(started.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(aborted.sort((a, b) => a - b)).toEqual([0, 1, 3]);
    // every call had settled when the pool threw
    expect(settled.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
  });

  it("refuses a limit below 1", async () => {
    await expect(mapPool([1], 0, async (x) => x)).rejects.toThrow(/limit must be at least 1, got 0/);
  });
});

describe("isFatalEndpointError", () => {
  it("is true for a refused key, a missing model or route, and spent retries, also as a cause", () => {
    expect(isFatalEndpointError(new OpenAIError("x", 401))).toBe(true);
    expect(isFatalEndpointError(new OpenAIError("x", 403))).toBe(true);
    expect(isFatalEndpointError(new OpenAIError("x", 404))).toBe(true);
    expect(isFatalEndpointError(new OpenAIError("gave up", 429, false, true))).toBe(true);
    expect(isFatalEndpointError(new Error("grading failed", { cause: new OpenAIError("x", 401) }))).toBe(
      true,
    );
  });
  it("is false for one request's own fault and for other errors", () => {
    expect(isFatalEndpointError(new OpenAIError("x", 400))).toBe(false);
    expect(isFatalEndpointError(new OpenAIError("x", 500, true))).toBe(false);
    expect(isFatalEndpointError(new Error("boom"))).toBe(false);
    expect(isFatalEndpointError(undefined)).toBe(false);
  });
});
