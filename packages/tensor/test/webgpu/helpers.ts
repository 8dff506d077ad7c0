// Builds the same data on the CPU reference backend and on WebGPU, and compares what each returns.
import { expect } from "vitest";
import type { Backend, BufferHandle, DType, TypedArray, View } from "../../src/backend/backend.js";
import { contiguousStrides, numel } from "../../src/backend/backend.js";
import { referenceBackend } from "../../src/backend/cpu/index.js";
import { createBackend, type WebGpuBackend } from "../../src/backend/webgpu/index.js";
import { rand } from "../rand.js";

export { rand };

/** The WebGPU backend, or the reason there is none on this machine. */
export async function loadWebGpu(): Promise<{ gpu: WebGpuBackend | null; reason: string }> {
  try {
    return { gpu: await createBackend(), reason: "" };
  } catch (err) {
    return { gpu: null, reason: (err as Error).message.split("\n")[0] };
  }
}

export const cpu = referenceBackend();

/** A pair of buffers holding the same data on both backends. */
export interface Pair {
  cpu: BufferHandle;
  gpu: BufferHandle;
  shape: number[];
}

/** Uploads `data` to both backends as a contiguous tensor of `shape`. */
export function pair(gpu: Backend, data: TypedArray, shape: number[], dtype: DType = "float32"): Pair {
  const c = cpu.allocate(data.length, dtype);
  cpu.write(c, data);
  const g = gpu.allocate(data.length, dtype);
  gpu.write(g, data);
  return { cpu: c, gpu: g, shape };
}

/** Returns an output buffer on each backend. */
export function outPair(gpu: Backend, shape: number[], dtype: DType = "float32"): Pair {
  const n = numel(shape);
  return { cpu: cpu.allocate(n, dtype), gpu: gpu.allocate(n, dtype), shape };
}

/** Returns a view of a pair's buffer on one side (strides default to contiguous). */
export function view(
  p: Pair,
  side: "cpu" | "gpu",
  shape = p.shape,
  strides = contiguousStrides(shape),
  offset = 0,
): View {
  return { buffer: p[side], shape, strides, offset };
}

/** Asserts both backends hold the same values (float32 tolerance). */
export async function expectSame(gpu: Backend, p: Pair, tol = 1e-4, what = "result"): Promise<void> {
  const a = await cpu.read(p.cpu);
  const b = await gpu.read(p.gpu);
  expect(b.length, `${what}: length`).toBe(a.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    const err = Math.abs(x - y) / Math.max(1, Math.abs(x));
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
      at = i;
    }
  }
  expect(worst, `${what}: worst relative error at ${at} (cpu ${a[at]}, webgpu ${b[at]})`).toBeLessThanOrEqual(
    tol,
  );
}

/** Shapes and flags of one attention comparison. */
export interface AttentionCase {
  B: number;
  Hq: number;
  Hkv: number;
  Lq: number;
  Lk: number;
  D: number;
  causal: boolean;
  /** An additive [Lq, Lk] mask broadcast over batch and heads. */
  masked: boolean;
}

/**
 * Runs attention forward and backward on both backends and compares out, lse, dq, dk and dv.
 * Returns how many dispatches the WebGPU forward recorded.
 */
export async function compareAttention(g: WebGpuBackend, c: AttentionCase): Promise<number> {
  const { B, Hq, Hkv, Lq, Lk, D } = c;
  const q = pair(g, rand(B * Hq * Lq * D, 1), [B, Hq, Lq, D]);
  const k = pair(g, rand(B * Hkv * Lk * D, 2), [B, Hkv, Lk, D]);
  const v = pair(g, rand(B * Hkv * Lk * D, 3), [B, Hkv, Lk, D]);
  const m = pair(g, rand(Lq * Lk, 4, -3, 0), [Lq, Lk]);
  const mv = (s: "cpu" | "gpu") => (c.masked ? view(m, s, [B, Hq, Lq, Lk], [0, 0, Lk, 1]) : null);
  const opts = { scale: 1 / Math.sqrt(D), causal: c.causal };
  const out = outPair(g, [B, Hq, Lq, D]);
  const lse = outPair(g, [B, Hq, Lq]);
  cpu.attention(view(q, "cpu"), view(k, "cpu"), view(v, "cpu"), mv("cpu"), opts, out.cpu, lse.cpu);
  const before = g.runtime.counters.dispatches;
  g.attention(view(q, "gpu"), view(k, "gpu"), view(v, "gpu"), mv("gpu"), opts, out.gpu, lse.gpu);
  const dispatches = g.runtime.counters.dispatches - before;
  await expectSame(g, out, 1e-5, "attention out");
  await expectSame(g, lse, 1e-5, "attention lse");
  const dO = pair(g, rand(B * Hq * Lq * D, 5), [B, Hq, Lq, D]);
  const dq = outPair(g, [B, Hq, Lq, D]);
  const dk = outPair(g, [B, Hkv, Lk, D]);
  const dv = outPair(g, [B, Hkv, Lk, D]);
  for (const s of ["cpu", "gpu"] as const) {
    const be = s === "cpu" ? cpu : g;
    be.attentionBackward(
      view(q, s),
      view(k, s),
      view(v, s),
      mv(s),
      opts,
      view(out, s),
      view(lse, s),
      view(dO, s),
      dq[s],
      dk[s],
      dv[s],
    );
  }
  await expectSame(g, dq, 1e-4, "dq");
  await expectSame(g, dk, 1e-4, "dk");
  await expectSame(g, dv, 1e-4, "dv");
  return dispatches;
}
