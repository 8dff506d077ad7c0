// Optimizers against PyTorch trajectories (fixtures from scripts/golden_optim.py), clipping,
// schedules, and exact resumption from state dicts.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import * as T from "../src/index.js";
import { io, nn, optim } from "../src/index.js";
import { describeBackends } from "./backends.js";

const fx = JSON.parse(readFileSync(new URL("./fixtures/optim.json", import.meta.url), "utf8"));

function close(got: ArrayLike<number>, want: number[], tol = 1e-5): void {
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > tol * (1 + Math.abs(want[i])))
      throw new Error(`[${i}]: got ${got[i]}, PyTorch ${want[i]}`);
  }
}

describeBackends("optim", () => {
  for (const c of fx.cases) {
    it(`${c.optimizer} ${JSON.stringify(c.config)} follows PyTorch`, async () => {
      const p = T.tensor(fx.p0, { shape: [3, 4], requiresGrad: true });
      const cfg = c.config;
      const opt =
        c.optimizer === "sgd"
          ? new optim.SGD([p], {
              lr: cfg.lr,
              momentum: cfg.momentum,
              nesterov: cfg.nesterov,
              weightDecay: cfg.weight_decay,
              dampening: cfg.dampening,
            })
          : new optim.AdamW([p], {
              lr: cfg.lr,
              betas: cfg.betas,
              eps: cfg.eps,
              weightDecay: cfg.weight_decay,
            });
      for (let s = 0; s < fx.grads.length; s++) {
        p.grad = T.tensor(fx.grads[s], { shape: [3, 4] });
        opt.step();
        opt.zeroGrad();
        close(await p.data(), c.trajectory[s]);
      }
      opt.dispose();
      p.dispose();
    });
  }

  it("clipGradNorm scales by the global norm like clip_grad_norm_", async () => {
    const a = T.zeros([5], { requiresGrad: true });
    const b = T.zeros([2, 3], { requiresGrad: true });
    a.grad = T.tensor(fx.clip.grads[0]);
    b.grad = T.tensor(fx.clip.grads[1], { shape: [2, 3] });
    const norm = optim.clipGradNorm([a, b], fx.clip.maxNorm);
    expect(await norm.item()).toBeCloseTo(fx.clip.norm, 4);
    close(await a.grad!.data(), fx.clip.clipped[0]);
    close(await b.grad!.data(), fx.clip.clipped[1]);
    for (const t of [norm, a, b]) t.dispose();
  });

  it("AdamW parameter groups use their own lr and weight decay", async () => {
    const p = T.ones([2], { requiresGrad: true });
    const q = T.ones([2], { requiresGrad: true });
    const opt = new optim.AdamW([{ params: [p] }, { params: [q], lr: 0, weightDecay: 0 }], { lr: 0.1 });
    p.grad = T.ones([2]);
    q.grad = T.ones([2]);
    opt.step();
    expect(Array.from(await q.data())).toEqual([1, 1]);
    expect((await p.data())[0]).toBeLessThan(1);
    opt.dispose();
    p.dispose();
    q.dispose();
  });

  it("training resumes exactly from model and optimizer state dicts", async () => {
    const make = () =>
      new nn.Sequential(new nn.Linear(3, 4, { seed: 1 }), new nn.Tanh(), new nn.Linear(4, 2, { seed: 2 }));
    const x = T.randn([5, 3], { seed: 3 });
    const y = T.randn([5, 2], { seed: 4 });
    const train = (m: nn.Module, o: optim.Optimizer, steps: number) => {
      for (let i = 0; i < steps; i++) {
        const l = T.tidy(() => (m.forward(x) as T.Tensor).sub(y).square().mean());
        l.backward();
        o.step();
        o.zeroGrad();
        l.dispose();
      }
    };
    const a = make();
    const oa = new optim.AdamW(a.parameters(), { lr: 0.01 });
    train(a, oa, 3);
    const modelState = Object.fromEntries(
      Object.entries(a.stateDict()).map(([k, v]) => [k, T.keep(v.detach().clone())]),
    );
    // through optimizer.safetensors bytes, as a checkpoint stores it
    const flat = optim.flattenState(oa.stateDict());
    const bytes = await io.saveSafetensors(flat.tensors, flat.metadata);
    const loaded = io.loadSafetensors(bytes);
    const optState = optim.unflattenState(loaded.tensors, loaded.metadata);
    train(a, oa, 2);
    const b = make();
    b.loadStateDict(modelState);
    const ob = new optim.AdamW(b.parameters(), { lr: 0.5 });
    const live = T.memory().tensors;
    ob.loadStateDict(optState);
    // Exactly one new tensor per moment (exp_avg, exp_avg_sq of each parameter): no leaked views.
    expect(T.memory().tensors - live).toBe(2 * b.parameters().length);
    train(b, ob, 2);
    const pa = a.parameters();
    const pb = b.parameters();
    for (let i = 0; i < pa.length; i++)
      expect(Array.from(await pb[i].data())).toEqual(Array.from(await pa[i].data()));
  });

  it("schedules: warmup then cosine, linear, constant", () => {
    const cos = optim.warmupCosine(10, 110, 0.1);
    expect(cos(0)).toBeCloseTo(0.1);
    expect(cos(9)).toBeCloseTo(1);
    expect(cos(60)).toBeCloseTo(0.55);
    expect(cos(110)).toBeCloseTo(0.1);
    const lin = optim.warmupLinear(0, 100);
    expect(lin(50)).toBeCloseTo(0.5);
    expect(optim.constant()(123)).toBe(1);
    const p = T.ones([1], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 2 });
    const s = new optim.LambdaLR(opt, optim.warmupLinear(4, 8));
    expect(s.getLastLr()).toEqual([0.5]);
    s.step();
    expect(s.getLastLr()).toEqual([1]);
    p.dispose();
  });
  it("ExponentialMovingAverage follows average <- d*average + (1-d)*param and restores from host arrays", async () => {
    const p = T.tensor([1, 2, 3, 4], { shape: [2, 2], requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.5 });
    const ema = new optim.ExponentialMovingAverage([p], 0.9);
    // a constant gradient of 1: p_k = p_0 - 0.5k; the average in float64 alongside
    const want = [1, 2, 3, 4];
    for (let k = 1; k <= 5; k++) {
      p.grad?.dispose();
      p.grad = T.tensor([1, 1, 1, 1], { shape: [2, 2] });
      opt.step();
      ema.update();
      for (let i = 0; i < 4; i++) want[i] = 0.9 * want[i] + 0.1 * (i + 1 - 0.5 * k);
    }
    expect(ema.numUpdates).toBe(5);
    close(await ema.averages[0].data(), want);
    close(await p.data(), [-1.5, -0.5, 0.5, 1.5]);
    // a second average restored from the first's host copy continues identically
    const again = new optim.ExponentialMovingAverage([p], 0.9);
    again.load([await ema.averages[0].data()], ema.numUpdates);
    ema.update();
    again.update();
    expect(Array.from(await again.averages[0].data())).toEqual(Array.from(await ema.averages[0].data()));
    ema.copyToParams();
    expect(Array.from(await p.data())).toEqual(Array.from(await ema.averages[0].data()));
    expect(() => new optim.ExponentialMovingAverage([p], 1)).toThrow(/decay must be in \[0, 1\)/);
    expect(() => again.load([[1, 2]], 0)).toThrow(/array 0 has 2 values, the parameter 4/);
    ema.dispose();
    again.dispose();
    p.dispose();
  });
});
