// The model's layers with GPT-2's initialization from a seeded host generator (nanoGPT's
// `_init_weights`): weights N(0, 0.02²) unless a std is given, biases 0, norms 1. Drawing on the host
// from one seeded stream makes a model's initial weights the same on every backend.
import type { Rng } from "@sr2se/core";
import { nn } from "@sr2se/tensor";

function normalValues(n: number, rng: Rng, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
  return out;
}

/** Returns an nn.Linear(inFeatures → outFeatures) with weights from N(0, std²) (default 0.02) and zero bias. */
export function initLinear(
  inFeatures: number,
  outFeatures: number,
  rng: Rng,
  opts: { bias?: boolean; std?: number } = {},
): nn.Linear {
  const layer = new nn.Linear(inFeatures, outFeatures, { bias: opts.bias ?? false, skipInit: true });
  nn.init.copyFrom(layer.weight, normalValues(layer.weight.size, rng, opts.std ?? 0.02));
  if (layer.bias) nn.init.constant(layer.bias, 0);
  return layer;
}

/** Returns an nn.Embedding with rows from N(0, std²) (default 0.02). */
export function initEmbedding(num: number, dim: number, rng: Rng, std = 0.02): nn.Embedding {
  const layer = new nn.Embedding(num, dim, { skipInit: true });
  nn.init.copyFrom(layer.weight, normalValues(layer.weight.size, rng, std));
  return layer;
}
