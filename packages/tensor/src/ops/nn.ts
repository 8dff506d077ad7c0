// Neural-network functions on the fused kernels: softmax, crossEntropy, norms, attention, plus the
// composed ones (dropout, rope, patchify).

import { noGrad } from "../autograd.js";
import { allocHost, fmtShape, numel } from "../backend/backend.js";
import { type Generator, resolveGenerator } from "../random.js";
import type { Tensor } from "../tensor.js";
import {
  broadcastShapes,
  broadcastView,
  bufferOf,
  empty,
  isFloat,
  normDim,
  record,
  sameBackend,
} from "./core.js";
import { castRaw, mul, scalarLike, where } from "./elementwise.js";
import { sum } from "./reduce.js";
import { contiguous, permute, reshape, transpose, unsqueeze } from "./shape.js";

function softmaxImpl(x: Tensor, dim: number, log: boolean): Tensor {
  const op = log ? "logSoftmax" : "softmax";
  if (!isFloat(x.dtype))
    throw new Error(`${op}: expected a float tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
  if (x.ndim === 0) {
    const r = reshape(x, [1]);
    const y = softmaxImpl(r, 0, log);
    const out = reshape(y, []);
    r.dispose();
    y.dispose();
    return out;
  }
  const d = normDim(op, dim, x.ndim, x.shape);
  if (d !== x.ndim - 1) {
    const t = transpose(x, d, -1);
    const y = softmaxImpl(t, -1, log);
    const out = transpose(y, d, -1);
    t.dispose();
    y.dispose();
    return out;
  }
  const out = empty(x.shape, x.dtype, x.backend);
  if (out.size > 0) x.backend.softmax(x._view(op), log, bufferOf(out));
  return record("softmax", out, [x], [out], { log });
}

/** Returns softmax of x along dim. */
export function softmax(x: Tensor, dim = -1): Tensor {
  return softmaxImpl(x, dim, false);
}
/** Returns log-softmax of x along dim. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return softmaxImpl(x, dim, true);
}

/** Options of crossEntropy (PyTorch's names and defaults). */
export interface CrossEntropyOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: "mean" | "sum" | "none";
}

/**
 * Returns the cross entropy of logits against int32 class indices: logits [N, C] (or [C], or
 * [N, C, d1, …] with target [N, d1, …]); "mean" averages over targets that are not ignoreIndex.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const { ignoreIndex = -100, labelSmoothing = 0, reduction = "mean" } = options;
  const backend = sameBackend("crossEntropy", logits, target);
  if (target.dtype !== "int32")
    throw new Error(
      `crossEntropy: target must be int32 class indices, got ${target.dtype} ${fmtShape(target.shape)}`,
    );
  if (!isFloat(logits.dtype)) throw new Error(`crossEntropy: logits must be float, got ${logits.dtype}`);
  const expected = logits.ndim === 1 ? [] : [logits.shape[0], ...logits.shape.slice(2)];
  if (
    logits.ndim === 0 ||
    target.shape.length !== expected.length ||
    target.shape.some((s, i) => s !== expected[i])
  ) {
    throw new Error(
      `crossEntropy: logits ${fmtShape(logits.shape)} and target ${fmtShape(target.shape)} do not match (expected target ${fmtShape(expected)})`,
    );
  }
  if (labelSmoothing < 0 || labelSmoothing > 1)
    throw new Error(`crossEntropy: labelSmoothing ${labelSmoothing} is outside [0, 1]`);
  const C = logits.ndim === 1 ? logits.shape[0] : logits.shape[1];
  // bring classes last and flatten to [N, C]
  const moved =
    logits.ndim > 2
      ? permute(logits, [0, ...Array.from({ length: logits.ndim - 2 }, (_, i) => i + 2), 1])
      : logits;
  const x2 = reshape(moved, [-1, C]);
  const t1 = reshape(target, [-1]);
  const N = x2.shape[0];
  const losses = empty([N], logits.dtype, backend);
  const lse = empty([N], logits.dtype, backend);
  if (N > 0)
    backend.crossEntropy(
      x2._view("crossEntropy"),
      t1._view("crossEntropy"),
      ignoreIndex,
      labelSmoothing,
      bufferOf(losses),
      bufferOf(lse),
    );
  record("crossEntropy", losses, [x2], [x2, t1, lse], { ignoreIndex, labelSmoothing });
  let out: Tensor;
  if (reduction === "none") out = reshape(losses, target.shape);
  else if (reduction === "sum") out = sum(losses);
  else {
    const total = sum(losses);
    const count = noGrad(() => {
      const keep = t1.ne(ignoreIndex);
      const c = sum(keep);
      const f = castRaw(c, logits.dtype);
      keep.dispose();
      c.dispose();
      return f;
    });
    out = total.div(count);
    total.dispose();
    count.dispose();
  }
  for (const t of [x2, t1, losses, lse]) t.dispose();
  if (moved !== logits) moved.dispose();
  return out;
}

function normImpl(
  op: string,
  x: Tensor,
  D: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
  rms: boolean,
): Tensor {
  const backend = sameBackend(op, x, ...(weight ? [weight] : []), ...(bias ? [bias] : []));
  if (!isFloat(x.dtype)) throw new Error(`${op}: expected a float tensor, got ${x.dtype}`);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== D || (D > 0 && x.size % D !== 0)) {
    throw new Error(`${op}: input ${fmtShape(x.shape)} does not end in the normalized size ${D}`);
  }
  for (const [name, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (t && t.size !== D)
      throw new Error(`${op}: ${name} ${fmtShape(t.shape)} does not match the normalized size ${D}`);
  }
  const x2 = reshape(x, [-1, D]);
  const R = x2.shape[0];
  const out = empty([R, D], x.dtype, backend);
  const mean = empty([rms ? 1 : R], x.dtype, backend);
  const rstd = empty([R], x.dtype, backend);
  const flat = (t: Tensor | null) =>
    t ? { ...t._view(op), shape: [D], strides: [t.strides[t.ndim - 1] ?? 1] } : null;
  if (out.size > 0)
    backend.norm(
      x2._view(op),
      flat(weight),
      flat(bias),
      eps,
      rms,
      bufferOf(out),
      bufferOf(mean),
      bufferOf(rstd),
    );
  const inputs = [x2, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  record("norm", out, inputs, [x2, ...(weight ? [weight] : []), mean, rstd], {
    rms,
    hasWeight: !!weight,
    hasBias: !!bias,
  });
  const y = reshape(out, x.shape);
  for (const t of [x2, out, mean, rstd]) t.dispose();
  return y;
}

/** Returns LayerNorm of x over its last dims (normalizedShape), with optional affine weight and bias. */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
  const D = numel(ns);
  if (ns.length > 1) {
    const flat = reshape(x, [...x.shape.slice(0, x.ndim - ns.length), D]);
    const y = normImpl("layerNorm", flat, D, weight, bias, eps, false);
    const out = reshape(y, x.shape);
    flat.dispose();
    y.dispose();
    return out;
  }
  return normImpl("layerNorm", x, D, weight, bias, eps, false);
}

/** Returns RMSNorm of x over its last dim: x / √(mean(x²) + eps) · weight. */
export function rmsNorm(
  x: Tensor,
  normalizedShape: number | number[],
  weight: Tensor | null = null,
  eps = 1e-6,
): Tensor {
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
  const D = numel(ns);
  if (ns.length > 1) {
    const flat = reshape(x, [...x.shape.slice(0, x.ndim - ns.length), D]);
    const y = normImpl("rmsNorm", flat, D, weight, null, eps, true);
    const out = reshape(y, x.shape);
    flat.dispose();
    y.dispose();
    return out;
  }
  return normImpl("rmsNorm", x, D, weight, null, eps, true);
}

/** Options of dropout. */
export interface DropoutOptions {
  training?: boolean;
  seed?: number;
  generator?: Generator;
}

/** Returns x with elements zeroed with probability p and the rest scaled by 1/(1−p) (identity when not training). */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout: p ${p} is outside [0, 1]`);
  if (options.training === false || p === 0) return mul(x, 1);
  const gen = resolveGenerator(options.seed, options.generator);
  const host = allocHost(x.dtype, x.size);
  const scale = p === 1 ? 0 : 1 / (1 - p);
  for (let i = 0; i < host.length; i++) host[i] = gen.random() >= p ? scale : 0;
  const mask = empty(x.shape, x.dtype, x.backend);
  x.backend.write(bufferOf(mask), host);
  const out = mul(x, mask);
  mask.dispose();
  return out;
}

/** Options of scaledDotProductAttention (PyTorch's names). */
export interface AttentionCallOptions {
  /** bool (true = attend) or additive float mask broadcastable to [B, Hq, Lq, Lk]. */
  attnMask?: Tensor | null;
  /** Causal masking, aligned bottom-right when Lq < Lk (a KV cache). */
  isCausal?: boolean;
  /** Defaults to 1/√headDim. */
  scale?: number;
}

/**
 * Returns softmax(q·kᵀ·scale + mask)·v for q [B, Hq, Lq, D], k/v [B, Hkv, Lk, D] (3-D inputs get a
 * batch dim); Hq must be a multiple of Hkv (grouped-query attention: head h reads k/v head ⌊h/(Hq/Hkv)⌋).
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: AttentionCallOptions = {},
): Tensor {
  if (q.ndim === 3 && k.ndim === 3 && v.ndim === 3) {
    const [q4, k4, v4] = [q, k, v].map((t) => unsqueeze(t, 0));
    const mask =
      options.attnMask && options.attnMask.ndim >= 3 ? unsqueeze(options.attnMask, 0) : options.attnMask;
    const o = scaledDotProductAttention(q4, k4, v4, { ...options, attnMask: mask });
    const out = reshape(o, o.shape.slice(1));
    for (const t of [q4, k4, v4, o]) t.dispose();
    if (mask && mask !== options.attnMask) mask.dispose();
    return out;
  }
  const backend = sameBackend("scaledDotProductAttention", q, k, v);
  const sig = `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}`;
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4)
    throw new Error(`scaledDotProductAttention: expected 4-D [B, H, L, D] inputs, got ${sig}`);
  const [B, Hq, Lq, D] = q.shape;
  const [B2, Hkv, Lk, D2] = k.shape;
  if (
    B2 !== B ||
    D2 !== D ||
    v.shape[0] !== B ||
    v.shape[1] !== Hkv ||
    v.shape[2] !== Lk ||
    v.shape[3] !== D
  ) {
    throw new Error(`scaledDotProductAttention: shapes do not match: ${sig}`);
  }
  if (Hkv === 0 || Hq % Hkv !== 0)
    throw new Error(
      `scaledDotProductAttention: query heads ${Hq} are not a multiple of key/value heads ${Hkv} (${sig})`,
    );
  if (!isFloat(q.dtype) || q.dtype !== k.dtype || q.dtype !== v.dtype)
    throw new Error(
      `scaledDotProductAttention: q, k, v must share one float dtype (${q.dtype}, ${k.dtype}, ${v.dtype})`,
    );
  const scale = options.scale ?? 1 / Math.sqrt(D);
  const causal = options.isCausal ?? false;
  let additive: Tensor | null = null;
  const m = options.attnMask ?? null;
  if (m) {
    sameBackend("scaledDotProductAttention", q, m);
    broadcastShapes("scaledDotProductAttention mask", m.shape, [B, Hq, Lq, Lk]);
    if (m.ndim > 4)
      throw new Error(`scaledDotProductAttention: mask ${fmtShape(m.shape)} has more than 4 dims`);
    additive =
      m.dtype === "bool"
        ? noGrad(() => where(m, 0, Number.NEGATIVE_INFINITY))
        : m.dtype === q.dtype
          ? m
          : castRaw(m, q.dtype);
  }
  const out = empty([B, Hq, Lq, D], q.dtype, backend);
  const lse = empty([B, Hq, Lq], q.dtype, backend);
  const maskView = additive ? broadcastView(additive, [B, Hq, Lq, Lk], "scaledDotProductAttention") : null;
  if (out.size > 0)
    backend.attention(
      q._view("attention"),
      k._view("attention"),
      v._view("attention"),
      maskView,
      { scale, causal },
      bufferOf(out),
      bufferOf(lse),
    );
  const saved = [q, k, v, out, lse, ...(additive ? [additive] : [])];
  record("attention", out, [q, k, v], saved, { scale, causal, hasMask: !!additive });
  lse.dispose();
  if (additive && additive !== m) additive.dispose();
  return out;
}

/**
 * Returns x rotated by the cos/sin tables ([..., L, D/2], broadcast over x's leading dims) in one
 * backend op, without recording autograd; `inverse` rotates back (rope's backward).
 */
export function ropeRaw(x: Tensor, cosT: Tensor, sinT: Tensor, inverse: boolean): Tensor {
  const table = [...x.shape.slice(0, -1), x.shape[x.ndim - 1] / 2];
  const out = empty(x.shape, x.dtype, x.backend);
  x.backend.rope(
    x._view("rope"),
    broadcastView(cosT, table, "rope"),
    broadcastView(sinT, table, "rope"),
    inverse,
    bufferOf(out),
  );
  return out;
}

/** Options of rope. */
export interface RopeOptions {
  /** θ base (10000 as in RoFormer/Llama). */
  base?: number;
}

/**
 * Returns x [..., L, D] rotated by rotary position embedding at the given positions, using the
 * "rotate half" pairing (i, i + D/2) of GPT-NeoX and Llama. `positions` is a start offset, one
 * position per row of L, or (for x [B, H, L, D], e.g. left-padded batches) one list per batch entry.
 */
export function rope(
  x: Tensor,
  positions: number | ArrayLike<number> | ArrayLike<number>[],
  options: RopeOptions = {},
): Tensor {
  const base = options.base ?? 10000;
  if (x.ndim < 2) throw new Error(`rope: expected [..., L, D], got ${fmtShape(x.shape)}`);
  const L = x.shape[x.ndim - 2];
  const D = x.shape[x.ndim - 1];
  if (D % 2 !== 0) throw new Error(`rope: head dim ${D} of ${fmtShape(x.shape)} must be even`);
  let rows: number[][];
  const perBatch = typeof positions !== "number" && positions.length > 0 && typeof positions[0] !== "number";
  if (typeof positions === "number") rows = [Array.from({ length: L }, (_, i) => positions + i)];
  else if (perBatch) {
    rows = Array.from(positions as ArrayLike<number>[], (p) => Array.from(p));
    if (x.ndim !== 4 || rows.length !== x.shape[0]) {
      throw new Error(
        `rope: per-batch positions need x [B, H, L, D] with B = ${rows.length}, got ${fmtShape(x.shape)}`,
      );
    }
  } else rows = [Array.from(positions as ArrayLike<number>)];
  for (const r of rows) {
    if (r.length !== L)
      throw new Error(`rope: ${r.length} positions given for sequence length ${L} of ${fmtShape(x.shape)}`);
  }
  const half = D / 2;
  const n = rows.length * L * half;
  const cosH = allocHost(x.dtype, n);
  const sinH = allocHost(x.dtype, n);
  const inv = Array.from({ length: half }, (_, j) => base ** ((-2 * j) / D));
  rows.forEach((r, b) => {
    for (let i = 0; i < L; i++)
      for (let j = 0; j < half; j++) {
        const angle = r[i] * inv[j];
        cosH[(b * L + i) * half + j] = Math.cos(angle);
        sinH[(b * L + i) * half + j] = Math.sin(angle);
      }
  });
  const tableShape = perBatch ? [rows.length, 1, L, half] : [L, half];
  const cosT = empty(tableShape, x.dtype, x.backend);
  const sinT = empty(tableShape, x.dtype, x.backend);
  x.backend.write(bufferOf(cosT), cosH);
  x.backend.write(bufferOf(sinT), sinH);
  // one fused backend op: both halves rotated in a pass, no temporaries
  const out = ropeRaw(x, cosT, sinT, false);
  record("rope", out, [x], [cosT, sinT]);
  cosT.dispose();
  sinT.dispose();
  return out;
}

/** Returns images [B, C, H, W] cut into non-overlapping p×p patches: [B, (H/p)·(W/p), C·p·p], row-major over patches. */
export function patchify(images: Tensor, patchSize: number): Tensor {
  if (images.ndim !== 4)
    throw new Error(`patchify: expected images [B, C, H, W], got ${fmtShape(images.shape)}`);
  const [B, C, H, W] = images.shape;
  const p = patchSize;
  if (!Number.isInteger(p) || p <= 0 || H % p !== 0 || W % p !== 0) {
    throw new Error(`patchify: patch size ${p} does not divide image ${H}×${W} of ${fmtShape(images.shape)}`);
  }
  const r = reshape(images, [B, C, H / p, p, W / p, p]);
  const t = permute(r, [0, 2, 4, 1, 3, 5]);
  const out = reshape(t, [B, (H / p) * (W / p), C * p * p]);
  r.dispose();
  t.dispose();
  return out;
}

export { contiguous, scalarLike };
