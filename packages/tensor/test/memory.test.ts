// Deterministic memory: tidy, keep, dispose, memory(), and the graph released after backward.
import { describe, expect, it } from "vitest";
import * as T from "../src/index.js";

describe("memory", () => {
  it("tidy disposes what it made except the result", () => {
    const before = T.memory();
    const x = T.ones([4, 4]);
    const y = T.tidy(() => x.exp().add(1).mul(2));
    expect(T.memory().tensors).toBe(before.tensors + 2);
    expect(T.memory().bytes).toBe(before.bytes + 2 * 64);
    x.dispose();
    y.dispose();
    expect(T.memory()).toEqual(before);
  });
  it("tensors in returned arrays and objects survive; kept ones too", () => {
    const before = T.memory().tensors;
    let kept: T.Tensor | null = null;
    const r = T.tidy(() => {
      kept = T.keep(T.zeros([1]));
      T.zeros([3]);
      return { a: T.ones([2]), list: [T.ones([1])] };
    });
    expect(T.memory().tensors).toBe(before + 3);
    r.a.dispose();
    r.list[0].dispose();
    kept!.dispose();
    expect(T.memory().tensors).toBe(before);
  });
  it("nested tidy moves results to the outer scope", () => {
    const before = T.memory().tensors;
    T.tidy(() => {
      const inner = T.tidy(() => T.ones([2]).add(1));
      expect(inner.isDisposed).toBe(false);
      return null;
    });
    expect(T.memory().tensors).toBe(before);
  });
  it("views share storage: bytes are freed with the last view", () => {
    const before = T.memory().bytes;
    const x = T.ones([8]);
    const r = x.reshape(2, 4);
    const v = r.transpose(0, 1);
    x.dispose();
    r.dispose();
    expect(T.memory().bytes).toBe(before + 32);
    v.dispose();
    expect(T.memory().bytes).toBe(before);
  });
  it("saved tensors outlive the tidy that made the forward, and go after backward", async () => {
    const w = T.tensor([1, 2, 3], { requiresGrad: true });
    const before = T.memory();
    const loss = T.tidy(() => w.exp().mul(w).sum());
    // the graph keeps what backward needs although tidy disposed the intermediates
    expect(T.memory().bytes).toBeGreaterThan(before.bytes);
    loss.backward();
    loss.dispose();
    const g = Array.from(await w.grad!.data());
    // d/dw (w e^w) = e^w (1 + w)
    expect(g[1]).toBeCloseTo(Math.exp(2) * 3, 4);
    w.grad!.dispose();
    w.grad = null;
    expect(T.memory()).toEqual(before);
    w.dispose();
  });
  it("a graph whose output is disposed without backward is released", () => {
    const w = T.ones([16], { requiresGrad: true });
    const before = T.memory();
    const y = T.tidy(() => w.sin().mul(w).sum());
    y.dispose();
    expect(T.memory()).toEqual(before);
    w.dispose();
  });
  it("gradients accumulate across backward calls", async () => {
    const w = T.tensor([2], { requiresGrad: true });
    for (let i = 0; i < 3; i++) {
      const l = T.tidy(() => w.mul(w).sum());
      l.backward();
      l.dispose();
    }
    expect(await w.grad!.item()).toBeCloseTo(12);
    w.dispose();
  });
  it("noGrad records nothing", () => {
    const w = T.ones([2], { requiresGrad: true });
    const y = T.noGrad(() => w.mul(2));
    expect(y.requiresGrad).toBe(false);
    y.dispose();
    w.dispose();
  });
  it("detach cuts the graph", () => {
    const w = T.ones([2], { requiresGrad: true });
    const d = w.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    d.dispose();
    w.dispose();
  });
});

describe("devices", () => {
  it("init falls back to the reference CPU backend when a faster one fails to load", async () => {
    T.registerBackend(
      "cpu-broken",
      "cpu",
      async () => Promise.reject(new Error("no worker threads here")),
      0,
    );
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (m: string) => warnings.push(m);
    try {
      const b = await T.init({ device: "cpu" });
      expect(b.name).toBe("cpu");
      expect(warnings[0]).toContain('init: backend "cpu-broken" failed to load (no worker threads here)');
      await expect(T.init({ backend: "cpu-broken" })).rejects.toThrow("no worker threads here");
    } finally {
      console.warn = warn;
      await T.init({ backend: "cpu" });
    }
  });

  it("toDevice copies a tensor to another backend", async () => {
    const other = new T.CpuBackend();
    const x = T.tensor([1, 2, 3]);
    const y = await x.toDevice(other);
    expect(y.backend).toBe(other);
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    x.dispose();
    y.dispose();
  });
});

describe("masks", () => {
  it("logicalNot, logicalAnd, logicalOr combine bool masks with broadcasting", async () => {
    const causal = T.ones([3, 3]).tril().eq(1);
    const padding = T.tensor([true, true, false]);
    expect(await causal.logicalAnd(padding).toArray()).toEqual([
      [true, false, false],
      [true, true, false],
      [true, true, false],
    ]);
    expect(await padding.logicalNot().toArray()).toEqual([false, false, true]);
    expect(await padding.logicalOr(T.tensor([false, false, true])).toArray()).toEqual([true, true, true]);
  });
});
