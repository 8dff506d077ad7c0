// End to end: an MLP learns XOR, a two-layer transformer LM overfits a fixed batch below 0.05, and
// 500 training steps leave memory() flat.
import { expect, it } from "vitest";
import * as T from "../src/index.js";
import { nn, optim } from "../src/index.js";
import { describeBackends } from "./backends.js";

describeBackends("end to end", () => {
  it("an MLP learns XOR", async () => {
    const model = new nn.Sequential(
      new nn.Linear(2, 16, { seed: 1 }),
      new nn.Tanh(),
      new nn.Linear(16, 1, { seed: 2 }),
    );
    const opt = new optim.AdamW(model.parameters(), { lr: 0.05, weightDecay: 0 });
    const x = T.tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const y = T.tensor([[0], [1], [1], [0]]);
    for (let step = 0; step < 300; step++) {
      const loss = T.tidy(() => model.forward(x).sub(y).square().mean());
      loss.backward();
      opt.step();
      opt.zeroGrad();
      loss.dispose();
    }
    const pred = T.tidy(() => model.forward(x));
    const p = Array.from(await pred.data());
    expect(p.map((v) => (v > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
    for (const t of [pred, x, y]) t.dispose();
    opt.dispose();
    model.dispose();
  });

  it("a two-layer transformer overfits a fixed batch below loss 0.05", async () => {
    const cfg = { vocabSize: 32, dModel: 32, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnHidden: 64 };
    const model = new nn.TransformerLM(cfg, { seed: 3 });
    const opt = new optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0 });
    const ids = T.randint(0, 32, [4, 12], { seed: 4 });
    const targets = T.randint(0, 32, [4, 12], { seed: 5 });
    let last = Number.POSITIVE_INFINITY;
    for (let step = 0; step < 150 && last >= 0.05; step++) {
      const loss = T.tidy(() => model.loss(ids, targets));
      loss.backward();
      T.tidy(() => optim.clipGradNorm(model.parameters(), 1.0));
      opt.step();
      opt.zeroGrad();
      last = await loss.item();
      loss.dispose();
    }
    expect(last).toBeLessThan(0.05);
    for (const t of [ids, targets]) t.dispose();
    opt.dispose();
    model.dispose();
  });

  it("500 training steps leave memory() flat", async () => {
    const cfg = { vocabSize: 16, dModel: 16, nLayers: 1, nHeads: 2, ffnHidden: 32 };
    const model = new nn.TransformerLM(cfg, { seed: 6 });
    const opt = new optim.AdamW(model.parameters(), { lr: 1e-3 });
    const sched = new optim.LambdaLR(opt, optim.warmupCosine(10, 500));
    const ids = T.randint(0, 16, [2, 8], { seed: 7 });
    const targets = T.randint(0, 16, [2, 8], { seed: 8 });
    const step = () => {
      const loss = T.tidy(() => model.loss(ids, targets));
      loss.backward();
      opt.step();
      opt.zeroGrad();
      sched.step();
      loss.dispose();
    };
    for (let i = 0; i < 5; i++) step();
    const before = T.memory();
    for (let i = 0; i < 495; i++) step();
    const after = T.memory();
    expect(after).toEqual(before);
    for (const t of [ids, targets]) t.dispose();
    opt.dispose();
    model.dispose();
  }, 300_000);
});
