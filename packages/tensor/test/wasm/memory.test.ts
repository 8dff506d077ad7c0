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
