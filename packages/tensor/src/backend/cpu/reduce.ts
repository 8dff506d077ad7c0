// Reductions on the reference backend: one strided walk over x accumulating into a Float64Array the
// size of the output (double accumulators even for float32), ordered so the innermost loop runs over
// x's innermost dim.
import type { ReduceOp, TypedArray, View } from "../backend.js";
import { forEachRow } from "./strided.js";

function reduceRow(
  op: ReduceOp,
): (acc: Float64Array, ao: number, os: number, X: TypedArray, xo: number, xs: number, n: number) => void {
  switch (op) {
    case "sum":
    case "mean":
      return (acc, ao, os, X, xo, xs, n) => {
        if (os === 0) {
          let s = 0;
          for (let i = 0; i < n; i++, xo += xs) s += X[xo];
          acc[ao] += s;
        } else for (let i = 0; i < n; i++, xo += xs, ao += os) acc[ao] += X[xo];
      };
    case "prod":
      return (acc, ao, os, X, xo, xs, n) => {
        for (let i = 0; i < n; i++, xo += xs, ao += os) acc[ao] *= X[xo];
      };
    case "max":
      return (acc, ao, os, X, xo, xs, n) => {
        for (let i = 0; i < n; i++, xo += xs, ao += os) {
          const v = X[xo];
          if (v > acc[ao] || Number.isNaN(v)) acc[ao] = v;
        }
      };
    case "min":
      return (acc, ao, os, X, xo, xs, n) => {
        for (let i = 0; i < n; i++, xo += xs, ao += os) {
          const v = X[xo];
          if (v < acc[ao] || Number.isNaN(v)) acc[ao] = v;
        }
      };
  }
}

/** Reduces x over `axes` into out (x.shape with those axes set to 1). */
export function reduceInto(
  op: ReduceOp,
  x: View & { data: TypedArray },
  axes: readonly number[],
  out: TypedArray,
): void {
  const nd = x.shape.length;
  const outStrides = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    const reduced = axes.includes(d);
    outStrides[d] = reduced ? 0 : s;
    if (!reduced) s *= x.shape[d];
  }
  const outSize = s;
  const acc = new Float64Array(outSize);
  const init = op === "sum" || op === "mean" ? 0 : op === "prod" ? 1 : op === "max" ? -Infinity : Infinity;
  if (init !== 0) acc.fill(init);
  // Innermost dim reduced → walk [kept, reduced]; else [reduced, kept] so rows accumulate contiguously.
  const innerReduced = nd > 0 && axes.includes(nd - 1);
  const kept = [...Array(nd).keys()].filter((d) => !axes.includes(d));
  const order = innerReduced ? [...kept, ...axes] : [...axes, ...kept];
  const shape = order.map((d) => x.shape[d]);
  const xs = order.map((d) => x.strides[d]);
  const os = order.map((d) => outStrides[d]);
  const row = reduceRow(op);
  const X = x.data;
  let count = 1;
  for (const a of axes) count *= x.shape[a];
  if (count > 0)
    forEachRow(shape, [xs, os], [x.offset, 0], (pos, n, inner) =>
      row(acc, pos[1], inner[1], X, pos[0], inner[0], n),
    );
  if (op === "mean") for (let i = 0; i < outSize; i++) acc[i] /= count;
  for (let i = 0; i < outSize; i++) out[i] = acc[i];
}

/** Writes the int32 index of the first max (or min) along `axis`. */
export function argReduceInto(
  op: "argmax" | "argmin",
  x: View & { data: TypedArray },
  axis: number,
  out: Int32Array,
): void {
  const nd = x.shape.length;
  const n = x.shape[axis];
  if (n === 1) {
    out.fill(0);
    return;
  }
  const keptDims = [...Array(nd).keys()].filter((d) => d !== axis);
  const shape = keptDims.map((d) => x.shape[d]);
  const strides = keptDims.map((d) => x.strides[d]);
  const X = x.data;
  const step = x.strides[axis];
  const sign = op === "argmax" ? 1 : -1;
  let o = 0;
  forEachRow(shape, [strides], [x.offset], (pos, m, inner) => {
    let base = pos[0];
    for (let r = 0; r < m; r++, base += inner[0]) {
      let best = sign * X[base];
      let bi = 0;
      if (Number.isNaN(best)) {
        out[o++] = 0;
        continue;
      }
      for (let i = 1; i < n; i++) {
        const v = sign * X[base + i * step];
        if (v > best || Number.isNaN(v)) {
          best = v;
          bi = i;
          if (Number.isNaN(v)) break;
        }
      }
      out[o++] = bi;
    }
  });
}
