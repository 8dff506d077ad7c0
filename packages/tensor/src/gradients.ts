// The backward rules, one table (tinygrad's gradient.py): each row maps an op's upstream gradient g,
// its saved tensors and attributes to one gradient per input (null where none flows). Rules run under
// noGrad inside a tidy scope, so they may freely make temporaries.

import { type Node, noGrad, topoSort } from "./autograd.js";
import type { BinaryOp, DType } from "./backend/backend.js";
import { fmtShape } from "./backend/backend.js";
import { DIFFERENTIABLE_UNARY } from "./backend/unary-ops.js";
import { keep, tidy } from "./memory.js";
import { bufferOf, empty, isFloat } from "./ops/core.js";
import { add, binaryRaw, castRaw, div, mul, neg, unaryRaw, where } from "./ops/elementwise.js";
import { matmulRaw } from "./ops/linalg.js";
import { ropeRaw } from "./ops/nn.js";
import { sum } from "./ops/reduce.js";
import { contiguous, expand, narrow, permute, reshape, transpose } from "./ops/shape.js";
import type { Tensor } from "./tensor.js";

type Rule = (g: Tensor, saved: Tensor[], attrs: Record<string, unknown>) => (Tensor | null)[];

/** Returns g summed down to shape (undoing broadcasting). */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? sum(g, axes, true) : g;
  return reshape(s, shape as number[]);
}

const viaBackend =
  (op: BinaryOp): Rule =>
  (g, [x], attrs) => [binaryRaw(op, x, g, attrs.param as number[] | undefined)];

function zerosOf(shape: readonly number[], dtype: DType, like: Tensor): Tensor {
  const z = empty(shape, dtype, like.backend);
  like.backend.fill({ buffer: bufferOf(z), shape: z.shape, strides: z.strides, offset: 0 }, 0);
  return z;
}

function tiesRule(cmp: "gt" | "lt"): Rule {
  return (g, [a, b], attrs) => {
    const win = binaryRaw(cmp, a, b);
    const lose = binaryRaw(cmp, b, a);
    const tie = binaryRaw("eq", a, b);
    const half = mul(g, 0.5);
    const ga = where(win, g, where(tie, half, 0));
    const gb = where(lose, g, where(tie, half, 0));
    return [unbroadcast(ga, attrs.aShape as number[]), unbroadcast(gb, attrs.bShape as number[])];
  };
}

function extremumRule(g: Tensor, [x, out]: Tensor[], attrs: Record<string, unknown>): Tensor[] {
  const mask = binaryRaw("eq", x, out);
  const count = sum(mask, attrs.axes as number[], true);
  const share = div(g, count);
  return [where(mask, share, 0)];
}

/** The backward rules by op name. */
export const GRADIENTS: Record<string, Rule> = {
  cast: (g, _s, a) => [castRaw(g, a.dtype as DType)],
  add: (g, _s, a) => [unbroadcast(g, a.aShape as number[]), unbroadcast(g, a.bShape as number[])],
  sub: (g, _s, a) => [unbroadcast(g, a.aShape as number[]), unbroadcast(neg(g), a.bShape as number[])],
  mul: (g, [x, y], a) => [
    unbroadcast(mul(g, y), a.aShape as number[]),
    unbroadcast(mul(g, x), a.bShape as number[]),
  ],
  div: (g, [x, y], a) => [
    unbroadcast(div(g, y), a.aShape as number[]),
    unbroadcast(neg(div(mul(g, x), mul(y, y))), a.bShape as number[]),
  ],
  pow: (g, [x, y, out], a) => [
    unbroadcast(mul(mul(g, y), binaryRaw("pow", x, add(y, -1))), a.aShape as number[]),
    unbroadcast(mul(mul(g, out), unaryRaw("log", x)), a.bShape as number[]),
  ],
  maximum: tiesRule("gt"),
  minimum: tiesRule("lt"),
  // every unary op: its `<op>Grad` kernel, generated with the forward from the row in unary-ops.ts
  ...Object.fromEntries(DIFFERENTIABLE_UNARY.map((op) => [op, viaBackend(`${op}Grad` as BinaryOp)])),
  where: (g, [cond], a) => [
    unbroadcast(where(cond, g, 0), a.aShape as number[]),
    unbroadcast(where(cond, 0, g), a.bShape as number[]),
  ],
  sum: (g, _s, a) => [expand(g, a.shape as number[])],
  mean: (g, _s, a) => {
    const shape = a.shape as number[];
    let n = 1;
    for (const ax of a.axes as number[]) n *= shape[ax];
    return [expand(mul(g, 1 / n), shape)];
  },
  max: extremumRule,
  min: extremumRule,
  reshape: (g, _s, a) => [reshape(g, a.shape as number[])],
  contiguous: (g) => [g],
  permute: (g, _s, a) => {
    const dims = a.dims as number[];
    const inv = new Array<number>(dims.length);
    dims.forEach((d, i) => {
      inv[d] = i;
    });
    return [permute(g, inv)];
  },
  expand: (g, _s, a) => [unbroadcast(g, a.shape as number[])],
  narrow: (g, _s, a) => {
    const shape = a.shape as number[];
    const z = zerosOf(shape, g.dtype, g);
    const dim = a.dim as number;
    g.backend.copy(g._view("narrow"), {
      buffer: bufferOf(z),
      shape: g.shape,
      strides: z.strides,
      offset: (a.start as number) * z.strides[dim],
    });
    return [z];
  },
  cat: (g, _s, a) => {
    let start = 0;
    return (a.sizes as number[]).map((s) => {
      const piece = narrow(g, a.dim as number, start, s);
      start += s;
      return piece;
    });
  },
  matmul: (g, [x, y], a) => [
    unbroadcast(matmulRaw(g, transpose(y, -1, -2)), a.aShape as number[]),
    unbroadcast(matmulRaw(transpose(x, -1, -2), g), a.bShape as number[]),
  ],
  indexSelect: (g, [index], a) => {
    const z = zerosOf(a.shape as number[], g.dtype, g);
    const iv = index._view("indexSelect");
    g.backend.indexAdd(
      bufferOf(z),
      z.shape,
      index.ndim === 0 ? { ...iv, shape: [1], strides: [0] } : iv,
      g._view("indexSelect"),
      a.dim as number,
    );
    return [z];
  },
  gather: (g, [index], a) => {
    const z = zerosOf(a.shape as number[], g.dtype, g);
    g.backend.scatterAdd(bufferOf(z), z.shape, index._view("gather"), g._view("gather"), a.dim as number);
    return [z];
  },
  scatterAdd: (g, [index], a) => {
    const gs = empty(index.shape, g.dtype, g.backend);
    g.backend.gather(g._view("scatterAdd"), index._view("scatterAdd"), a.dim as number, bufferOf(gs));
    const src = a.srcShape as number[];
    if (src.every((d, i) => d === index.shape[i])) return [g, gs];
    const z = zerosOf(src, g.dtype, g);
    g.backend.copy(gs._view("scatterAdd"), {
      buffer: bufferOf(z),
      shape: gs.shape,
      strides: z.strides,
      offset: 0,
    });
    return [g, z];
  },
  // the inverse rotation: sin negated
  rope: (g, [cosT, sinT]) => [ropeRaw(g, cosT, sinT, true)],
  softmax: (g, [y], a) => {
    const out = empty(y.shape, y.dtype, y.backend);
    y.backend.softmaxBackward(y._view("softmax"), g._view("softmax"), a.log as boolean, bufferOf(out));
    return [out];
  },
  crossEntropy: (g, [x, t, lse], a) => {
    const out = empty(x.shape, x.dtype, x.backend);
    x.backend.crossEntropyBackward(
      x._view("crossEntropy"),
      t._view("crossEntropy"),
      lse._view("crossEntropy"),
      g._view("crossEntropy"),
      a.ignoreIndex as number,
      a.labelSmoothing as number,
      bufferOf(out),
    );
    return [out];
  },
  norm: (g, saved, a) => {
    const x = saved[0];
    const w = a.hasWeight ? saved[1] : null;
    const [mean, rstd] = saved.slice(a.hasWeight ? 2 : 1);
    const D = x.shape[1];
    const dx = empty(x.shape, x.dtype, x.backend);
    const dw = w ? empty([D], x.dtype, x.backend) : null;
    const db = a.hasBias ? empty([D], x.dtype, x.backend) : null;
    const flat = (t: Tensor) => ({ ...t._view("norm"), shape: [D], strides: [t.strides[t.ndim - 1] ?? 1] });
    x.backend.normBackward(
      x._view("norm"),
      w ? flat(w) : null,
      mean._view("norm"),
      rstd._view("norm"),
      g._view("norm"),
      a.rms as boolean,
      bufferOf(dx),
      dw ? bufferOf(dw) : null,
      db ? bufferOf(db) : null,
    );
    const out: (Tensor | null)[] = [dx];
    if (w && dw) out.push(reshape(dw, w.shape));
    if (db) out.push(db);
    return out;
  },
  attention: (g, saved, a) => {
    const [q, k, v, out, lse, mask] = saved;
    const dq = empty(q.shape, q.dtype, q.backend);
    const dk = empty(k.shape, k.dtype, k.backend);
    const dv = empty(v.shape, v.dtype, v.backend);
    const [B, Hq, Lq, Lk] = [q.shape[0], q.shape[1], q.shape[2], k.shape[2]];
    const mv = mask ? broadcastMask(mask, [B, Hq, Lq, Lk]) : null;
    q.backend.attentionBackward(
      q._view("attention"),
      k._view("attention"),
      v._view("attention"),
      mv,
      { scale: a.scale as number, causal: a.causal as boolean },
      out._view("attention"),
      lse._view("attention"),
      g._view("attention"),
      bufferOf(dq),
      bufferOf(dk),
      bufferOf(dv),
    );
    return [dq, dk, dv];
  },
};

function broadcastMask(mask: Tensor, shape: number[]) {
  const v = mask._view("attention");
  const strides = new Array<number>(4).fill(0);
  for (let i = 0; i < mask.ndim; i++) {
    const d = 4 - mask.ndim + i;
    strides[d] = mask.shape[i] === 1 ? 0 : mask.strides[i];
  }
  return { buffer: v.buffer, shape, strides, offset: v.offset };
}

/** Runs reverse-mode autograd from root, accumulating into every reachable leaf's `.grad`, then frees the graph. */
export function runBackward(root: Tensor, grad?: Tensor): void {
  root._view("backward");
  if (!root.requiresGrad) {
    throw new Error(
      `backward: tensor ${fmtShape(root.shape)} does not require grad (no input of it had requiresGrad)`,
    );
  }
  if (!grad && root.size !== 1) {
    throw new Error(
      `backward: gradient can be implied only for a scalar output; got ${fmtShape(root.shape)}, pass grad`,
    );
  }
  if (grad && (grad.shape.length !== root.shape.length || grad.shape.some((d, i) => d !== root.shape[i]))) {
    throw new Error(`backward: grad ${fmtShape(grad.shape)} does not match output ${fmtShape(root.shape)}`);
  }
  const start = root._gradNode()!;
  if (start.freed)
    throw new Error(
      `backward: the graph of ${fmtShape(root.shape)} was already freed by an earlier backward()`,
    );
  const order = topoSort(start);
  tidy(() =>
    noGrad(() => {
      // Each pending gradient is released as soon as the last node that needs it has run, and each
      // node's saved tensors right after its rule, so peak memory stays near the forward pass's.
      const grads = new Map<Node, Tensor>();
      const holds = new Map<Tensor, number>();
      const hold = (t: Tensor) => holds.set(t, (holds.get(t) ?? 0) + 1);
      const drop = (t: Tensor) => {
        const n = (holds.get(t) ?? 1) - 1;
        if (n > 0) holds.set(t, n);
        else {
          holds.delete(t);
          if (t !== grad) t.dispose();
        }
      };
      const seed = grad ?? fullLike(root, 1);
      grads.set(start, seed);
      hold(seed);
      for (let i = order.length - 1; i >= 0; i--) {
        const n = order[i];
        const g = grads.get(n);
        if (!g) continue;
        grads.delete(n);
        if (n.leaf) {
          const leaf = n.leaf;
          if (!leaf.isDisposed) {
            const gg = g.dtype === leaf.dtype ? g : castRaw(g, leaf.dtype);
            const next = leaf.grad ? add(leaf.grad, gg) : contiguous(gg, true);
            leaf.grad?.dispose();
            leaf.grad = keep(next);
          }
          drop(g);
          continue;
        }
        if (n.freed)
          throw new Error(`backward: the graph through ${n.op} was already freed by an earlier backward()`);
        const rule = GRADIENTS[n.op];
        if (!rule) throw new Error(`backward: no gradient rule for op ${n.op}`);
        const gs = rule(g, n.saved, n.attrs);
        n.releaseSaved();
        n.inputs.forEach((input, j) => {
          const gj = gs[j];
          if (!input || !gj || !isFloat(gj.dtype)) return;
          const prev = grads.get(input);
          if (prev) {
            const sum = add(prev, gj);
            drop(prev);
            grads.set(input, sum);
            hold(sum);
          } else {
            grads.set(input, gj);
            hold(gj);
          }
        });
        drop(g);
        for (const gj of gs) if (gj && !holds.has(gj) && gj !== grad && !gj.isDisposed) gj.dispose();
      }
    }),
  );
  for (const n of order) if (!n.leaf) n.free();
}

function fullLike(t: Tensor, value: number): Tensor {
  const z = empty(t.shape, t.dtype, t.backend);
  t.backend.fill({ buffer: bufferOf(z), shape: z.shape, strides: z.strides, offset: 0 }, value);
  return z;
}
