// The golden fixtures (scripts/golden.py) and how each fixture op is spelled in our API; shared by
// the golden and gradcheck suites.
import { readFileSync } from "node:fs";
import type { Tensor } from "../src/index.js";
import * as T from "../src/index.js";

interface Blob {
  shape: number[];
  dtype: "float32" | "int32" | "bool";
  data: string;
}
export interface Case {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: Blob[];
  out: Blob;
  gout?: string;
  grads?: (string | null)[];
}

export const fixtures = JSON.parse(
  readFileSync(new URL("./fixtures/golden.json", import.meta.url), "utf8"),
) as { cases: Case[] };

export function decode(b64: string, dtype: string): Float32Array | Int32Array | Uint8Array {
  const buf = Buffer.from(b64, "base64");
  const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (dtype === "int32") return new Int32Array(bytes.buffer);
  if (dtype === "bool") return bytes;
  return new Float32Array(bytes.buffer);
}

// biome-ignore lint/suspicious/noExplicitAny: fixture attributes are free-form JSON from golden.py
type Attrs = Record<string, any>;
export type OpFn = (x: Tensor[], a: Attrs) => Tensor;
const dim = (a: Attrs) => (a.dim === null ? undefined : a.dim);

/** How each fixture op is spelled in our API. */
export const OPS: Record<string, OpFn> = {
  neg: ([x]) => x.neg(),
  abs: ([x]) => x.abs(),
  exp: ([x]) => x.exp(),
  sin: ([x]) => x.sin(),
  cos: ([x]) => x.cos(),
  tanh: ([x]) => x.tanh(),
  sigmoid: ([x]) => x.sigmoid(),
  relu: ([x]) => x.relu(),
  gelu: ([x]) => x.gelu(),
  gelu_tanh: ([x]) => x.gelu("tanh"),
  silu: ([x]) => x.silu(),
  softplus: ([x]) => x.softplus(),
  log_sigmoid: ([x]) => x.logSigmoid(),
  square: ([x]) => x.square(),
  log: ([x]) => x.log(),
  sqrt: ([x]) => x.sqrt(),
  rsqrt: ([x]) => x.rsqrt(),
  reciprocal: ([x]) => x.reciprocal(),
  clamp: ([x], a) => x.clamp(a.min, a.max),
  pow_scalar: ([x], a) => x.pow(a.p),
  add: ([x, y]) => x.add(y),
  sub: ([x, y]) => x.sub(y),
  mul: ([x, y]) => x.mul(y),
  div: ([x, y]) => x.div(y),
  pow: ([x, y]) => x.pow(y),
  maximum: ([x, y]) => x.maximum(y),
  minimum: ([x, y]) => x.minimum(y),
  eq: ([x, y]) => x.eq(y),
  ne: ([x, y]) => x.ne(y),
  lt: ([x, y]) => x.lt(y),
  le: ([x, y]) => x.le(y),
  gt: ([x, y]) => x.gt(y),
  ge: ([x, y]) => x.ge(y),
  where: ([c, x, y]) => T.where(c, x, y),
  masked_fill: ([x, m], a) => x.maskedFill(m, a.value),
  scalar_ops: ([x]) =>
    T.sub(x, 1)
      .mul(-1)
      .add(x.add(2).mul(3).sub(1).div(4).sub(T.mul(2, x))),
  sum: ([x], a) => x.sum(dim(a), a.keepDim),
  mean: ([x], a) => x.mean(dim(a), a.keepDim),
  max: ([x], a) => x.max(dim(a), a.keepDim),
  min: ([x], a) => x.min(dim(a), a.keepDim),
  var: ([x], a) => x.var(dim(a), a.keepDim),
  logsumexp: ([x], a) => x.logSumExp(dim(a), a.keepDim),
  argmax: ([x], a) => x.argmax(dim(a)),
  softmax: ([x], a) => x.softmax(a.dim),
  log_softmax: ([x], a) => x.logSoftmax(a.dim),
  matmul: ([x, y]) => x.matmul(y),
  matmul_tt: ([x, y]) => x.transpose(0, 1).matmul(y.transpose(0, 1)),
  linear: ([x, w, b]) => T.linear(x, w, b),
  reshape: ([x], a) =>
    x.reshape(a.shape).mul(T.arange(12, undefined, 1, { dtype: x.dtype, device: x.backend }).reshape(3, 4)),
  transpose: ([x], a) => x.transpose(a.d0, a.d1),
  permute: ([x], a) => x.permute(a.dims),
  expand: ([x], a) => x.expand(a.shape),
  squeeze: ([x]) => x.squeeze(),
  unsqueeze: ([x], a) => x.unsqueeze(a.dim),
  flatten: ([x], a) => x.flatten(a.start),
  cat: (xs, a) => T.cat(xs, a.dim),
  stack: (xs, a) => T.stack(xs, a.dim),
  split: ([x], a) =>
    T.cat(
      x.split(a.size, a.dim).map((p, i) => p.mul(i + 1)),
      a.dim,
    ),
  chunk: ([x], a) =>
    T.cat(
      x.chunk(a.chunks, a.dim).map((p, i) => p.mul(i + 1)),
      a.dim,
    ),
  narrow: ([x], a) => x.narrow(a.dim, a.start, a.length),
  index_select: ([x, i], a) => x.indexSelect(a.dim, i),
  gather: ([x, i], a) => x.gather(a.dim, i),
  scatter_add: ([x, i, s], a) => x.scatterAdd(a.dim, i, s),
  tril: ([x], a) => x.tril(a.diagonal),
  triu: ([x], a) => x.triu(a.diagonal),
  one_hot: ([i], a) => T.oneHot(i, a.classes),
  embedding: ([i, w]) => T.embedding(i, w),
  cross_entropy: ([x, t], a) => T.crossEntropy(x, t, a),
  layer_norm: ([x, w, b], a) => T.layerNorm(x, x.shape[x.ndim - 1], w ?? null, b ?? null, a.eps),
  rms_norm: ([x, w], a) => T.rmsNorm(x, x.shape[x.ndim - 1], w, a.eps),
  sdpa: ([q, k, v, m], a) =>
    T.scaledDotProductAttention(q, k, v, { attnMask: m, isCausal: a.isCausal, scale: a.scale }),
  sdpa_add: ([q, k, v, m]) => T.scaledDotProductAttention(q, k, v, { attnMask: m.detach() }),
  rope: ([x], a) => T.rope(x, a.positions),
  patchify: ([x], a) => T.patchify(x, a.p),
};
