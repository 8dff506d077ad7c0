// Modules: parameter discovery and names, state dicts with strict checks, modes, seeded init.
import { expect, it } from "vitest";
import * as T from "../src/index.js";
import { nn } from "../src/index.js";
import { describeBackends } from "./backends.js";

describeBackends("nn", () => {
  it("namedParameters uses PyTorch's dotted names", () => {
    const m = new nn.TransformerLM(
      { vocabSize: 8, dModel: 8, nLayers: 2, nHeads: 2, ffnHidden: 16 },
      { seed: 1 },
    );
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toContain("embed.weight");
    expect(names).toContain("layers.1.attn.qProj.weight");
    expect(names).toContain("layers.0.mlp.downProj.weight");
    expect(names).toContain("lmHead.weight");
    expect(new Set(names).size).toBe(names.length);
    m.dispose();
  });

  it("Linear computes x·Wᵀ + b with PyTorch's init bound", async () => {
    const lin = new nn.Linear(4, 3, { seed: 2 });
    const w = Array.from(await lin.weight.data());
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.5);
    const x = T.ones([2, 4]);
    const y = lin.forward(x);
    expect(y.shape).toEqual([2, 3]);
    const b = await lin.bias!.data();
    expect((await y.data())[0]).toBeCloseTo(w[0] + w[1] + w[2] + w[3] + b[0], 5);
    expect(() => lin.forward(T.ones([2, 5]))).toThrow("Linear(4, 3): input [2,5] does not end in 4");
    lin.dispose();
  });

  it("seeded initialisation is reproducible", async () => {
    const a = new nn.Linear(5, 5, { seed: 9 });
    const b = new nn.Linear(5, 5, { seed: 9 });
    expect(Array.from(await a.weight.data())).toEqual(Array.from(await b.weight.data()));
    const t = nn.init.xavierNormal(T.zeros([64, 64]), 1, { seed: 1 });
    const v = await t.var().item();
    expect(v).toBeGreaterThan(0.8 / 64);
    expect(v).toBeLessThan(1.2 / 64);
    a.dispose();
    b.dispose();
  });

  it("loadStateDict checks names and shapes", () => {
    const m = new nn.Linear(2, 3, { seed: 1 });
    expect(() => m.loadStateDict({ weight: T.zeros([3, 2]) })).toThrow("loadStateDict: missing bias");
    expect(() =>
      m.loadStateDict({ weight: T.zeros([3, 2]), bias: T.zeros([3]), extra: T.zeros([1]) }),
    ).toThrow("loadStateDict: unexpected extra");
    expect(() => m.loadStateDict({ weight: T.zeros([2, 3]), bias: T.zeros([3]) })).toThrow(
      "loadStateDict: weight has shape [2,3] but the parameter is [3,2]",
    );
    expect(m.loadStateDict({ weight: T.zeros([3, 2]) }, false).missing).toEqual(["bias"]);
    m.dispose();
  });

  it("toDevice moves every parameter and keeps the outputs", async () => {
    const m = new nn.Sequential(
      new nn.Linear(3, 4, { seed: 1 }),
      new nn.ReLU(),
      new nn.Linear(4, 2, { seed: 2 }),
    );
    const x = T.randn([2, 3], { seed: 3 });
    const before = Array.from(await (m.forward(x) as T.Tensor).data());
    const other = new T.CpuBackend();
    await m.toDevice(other);
    expect(m.parameters().every((p) => p.backend === other && p.requiresGrad)).toBe(true);
    const after = Array.from(await (m.forward(await x.toDevice(other)) as T.Tensor).data());
    expect(after).toEqual(before);
  });

  it("Dropout is seeded in training and the identity in eval", async () => {
    const d = new nn.Dropout(0.5, { seed: 3 });
    const x = T.ones([1000]);
    const y = await d.forward(x).data();
    const kept = Array.from(y).filter((v) => v !== 0);
    expect(kept.every((v) => v === 2)).toBe(true);
    expect(kept.length).toBeGreaterThan(400);
    expect(kept.length).toBeLessThan(600);
    d.eval();
    expect(Array.from(await d.forward(x).data()).every((v) => v === 1)).toBe(true);
  });

  it("LayerNorm, RMSNorm, Embedding, SwiGLU keep the expected shapes", () => {
    const x = T.randn([2, 3, 8], { seed: 1 });
    expect(new nn.LayerNorm(8).forward(x).shape).toEqual([2, 3, 8]);
    expect(new nn.RMSNorm(8).forward(x).shape).toEqual([2, 3, 8]);
    expect(new nn.SwiGLU(8, 16, { seed: 1 }).forward(x).shape).toEqual([2, 3, 8]);
    expect(
      new nn.Embedding(10, 4, { seed: 1 }).forward(T.tensor([[1, 2, 3]], { dtype: "int32" })).shape,
    ).toEqual([1, 3, 4]);
  });

  it("KV-cached generation matches the full forward pass", async () => {
    const m = new nn.TransformerLM(
      { vocabSize: 11, dModel: 16, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnHidden: 32 },
      { seed: 5 },
    );
    const ids = T.tensor([[1, 5, 2, 7, 3]], { dtype: "int32" });
    const full = T.noGrad(() => m.forward(ids));
    const caches = m.layers.map(() => ({ k: T.zeros([1, 2, 0, 4]), v: T.zeros([1, 2, 0, 4]) }));
    const prefix = T.noGrad(() => m.forward(ids.narrow(1, 0, 3), 0, caches));
    const step1 = T.noGrad(() => m.forward(ids.narrow(1, 3, 1), 3, caches));
    const step2 = T.noGrad(() => m.forward(ids.narrow(1, 4, 1), 4, caches));
    const want = Array.from(await full.data());
    const got = [...(await prefix.data()), ...(await step1.data()), ...(await step2.data())];
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
  });
});
