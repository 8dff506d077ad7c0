// The fused attention kernel against attention composed from matmul, softmax and masks (forward and
// gradients), on shapes a VLM meets: grouped-query heads, KV-cache offsets, padding masks.
import { expect, it } from "vitest";
import type { Tensor } from "../src/index.js";
import * as T from "../src/index.js";
import { describeBackends } from "./backends.js";

function composed(q: Tensor, k: Tensor, v: Tensor, causal: boolean, mask: Tensor | null): Tensor {
  const [, Hq, Lq, D] = q.shape;
  const [, Hkv, Lk] = k.shape;
  const g = Hq / Hkv;
  const rep = (t: Tensor) =>
    T.cat(Array.from({ length: Hkv }, (_, h) => Array(g).fill(t.narrow(1, h, 1))).flat(), 1);
  let s = q.matmul(rep(k).transpose(-1, -2)).mul(1 / Math.sqrt(D));
  if (causal) {
    const drop = T.ones([Lq, Lk])
      .tril(Lk - Lq)
      .eq(0);
    s = s.maskedFill(drop, Number.NEGATIVE_INFINITY);
  }
  if (mask) s = T.where(mask, s, Number.NEGATIVE_INFINITY);
  return s.softmax(-1).matmul(rep(v));
}

async function close(a: Tensor, b: Tensor, name: string): Promise<void> {
  const x = await a.data();
  const y = await b.data();
  expect(x.length).toBe(y.length);
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i] - y[i]) > 1e-4 * (1 + Math.abs(y[i])))
      throw new Error(`${name}[${i}]: fused ${x[i]}, composed ${y[i]}`);
  }
}

describeBackends("attention", () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ["GQA 6/2 causal", [2, 6, 17, 8], [2, 2, 17, 8], true, false],
    ["KV cache: 3 queries over 33 keys, causal", [1, 4, 3, 16], [1, 4, 33, 16], true, false],
    ["padding mask", [2, 2, 9, 8], [2, 2, 9, 8], false, true],
    ["padding mask and causal, GQA 4/1", [2, 4, 9, 4], [2, 1, 9, 4], true, true],
  ];
  for (const [name, qs, ks, causal, masked] of cases) {
    it(`${name}: forward and gradients match the composed ops`, async () => {
      const q = T.randn(qs, { seed: 1, requiresGrad: true });
      const k = T.randn(ks, { seed: 2, requiresGrad: true });
      const v = T.randn(ks, { seed: 3, requiresGrad: true });
      const lens = [ks[2], Math.max(1, ks[2] - 4)];
      const mask = masked
        ? T.tensor(
            Array.from({ length: qs[0] }, (_, b) => [
              [Array.from({ length: ks[2] }, (_, j) => j < lens[b % 2])],
            ]),
          )
        : null;
      const gout = T.randn(qs, { seed: 4 });
      const fused = T.scaledDotProductAttention(q, k, v, { isCausal: causal, attnMask: mask });
      fused.backward(gout);
      const grads = [q.grad!, k.grad!, v.grad!];
      q.grad = k.grad = v.grad = null;
      const ref = composed(q, k, v, causal, mask);
      ref.backward(gout);
      await close(fused, ref, "out");
      await close(grads[0], q.grad!, "dq");
      await close(grads[1], k.grad!, "dk");
      await close(grads[2], v.grad!, "dv");
    });
  }
});
