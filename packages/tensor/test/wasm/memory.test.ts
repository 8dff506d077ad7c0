import { afterAll, describe, expect, it } from "vitest";
import type { WasmCpuBackend } from "../../src/backend/wasm/index.js";
import * as T from "../../src/index.js";

describe("cpu-wasm memory over training", () => {
  let previous = "cpu";
  afterAll(async () => {
    await T.init({ backend: previous });
  });

  it("150 steps of a small transformer (after 5 warm-up steps) grow neither live tensors nor the WebAssembly heap", async () => {
    previous = T.defaultBackend().name;
    const be = (await T.init({ backend: "cpu-wasm" })) as WasmCpuBackend;
    const cfg = { vocabSize: 32, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnHidden: 64 };
    const model = new T.nn.TransformerLM(cfg, { seed: 7 });
    const opt = new T.optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.1 });
    const ids = T.randint(0, 32, [4, 16], { seed: 8 });
    const targets = T.randint(0, 32, [4, 16], { seed: 9 });
    const step = () => {
      const loss = T.tidy(() => model.loss(ids, targets));
      loss.backward();
      opt.step();
      opt.zeroGrad();
      loss.dispose();
    };
    for (let i = 0; i < 5; i++) step();
    const tensors = T.memory();
    const heap = be.memoryInfo();
    for (let i = 0; i < 150; i++) step();
    expect(T.memory()).toEqual(tensors);
    expect(be.memoryInfo()).toEqual(heap);
    for (const t of [ids, targets]) t.dispose();
    opt.dispose();
    model.dispose();
  });
});

describe("cpu-wasm heap size classes", () => {
  it("reuses freed blocks across varying sizes, so memory stays bounded", async () => {
    const { Heap } = await import("../../src/backend/wasm/heap.js");
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const heap = new Heap(memory, 0);
    // Sequences of every length from 1 to 320 tokens, as unpadded training would allocate them.
    const after: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let len = 1; len <= 320; len++) {
        const bytes = len * 128 * 4;
        const a = heap.alloc(bytes);
        const b = heap.alloc(bytes * 3);
        heap.release(a, bytes);
        heap.release(b, bytes * 3);
      }
      after.push(heap.bytesAllocated);
    }
    expect(heap.bytesInUse).toBe(0);
    // Flat after the first pass over the lengths ...
    expect(after[2]).toBe(after[0]);
    // ... and far below what exact-size free lists reached: the sum of all 640 distinct sizes (105 MB).
    const exact = Array.from({ length: 320 }, (_, i) => (i + 1) * 512 * 4).reduce((x, y) => x + y, 0);
    expect(after[0]).toBeLessThan(exact / 10);
    expect(Heap.round(4097) % 64).toBe(0);
    expect(Heap.round(100_000)).toBeGreaterThanOrEqual(100_000);
    expect(Heap.round(100_000)).toBeLessThanOrEqual(100_000 * 1.125);
  });
});
