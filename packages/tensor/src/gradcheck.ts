// gradcheck: central finite differences in float64 against autograd, on a random projection of the
// output (so one backward checks the whole vector-Jacobian product).

import { noGrad } from "./autograd.js";
import { tensor } from "./creation.js";
import { tidy } from "./memory.js";
import { Generator } from "./random.js";
import type { Tensor } from "./tensor.js";

/** Options of gradcheck. */
export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
  /** Throw on a mismatch (default true); otherwise return the report. */
  raise?: boolean;
}

/** The outcome of gradcheck. */
export interface GradcheckResult {
  ok: boolean;
  maxError: number;
  worst: { input: number; index: number; analytical: number; numerical: number } | null;
}

/**
 * Resolves to whether fn's autograd gradients match central finite differences for every element of
 * every float input (inputs are copied to float64 with requiresGrad; non-float inputs pass through).
 */
export async function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  options: GradcheckOptions = {},
): Promise<GradcheckResult> {
  const { eps = 1e-6, atol = 1e-5, rtol = 1e-3, seed = 0, raise = true } = options;
  const hosts = await Promise.all(
    inputs.map(async (t) =>
      t.dtype === "float32" || t.dtype === "float64" ? Float64Array.from(await t.data()) : null,
    ),
  );
  const make = (i: number, host: Float64Array | null, grad: boolean) =>
    host
      ? tensor(host, {
          shape: inputs[i].shape,
          dtype: "float64",
          device: inputs[i].backend,
          requiresGrad: grad,
        })
      : inputs[i];
  // a fixed random projection of the output
  const probe = noGrad(() => fn(...hosts.map((h, i) => make(i, h, false))));
  const gen = new Generator(seed);
  const weights = new Float64Array(probe.size).map(() => gen.normal());
  const outShape = probe.shape;
  probe.dispose();
  const w = tensor(weights, { shape: outShape, dtype: "float64", device: inputs[0].backend });
  const scalar = async (xs: Tensor[]) => {
    const v = tidy(() =>
      noGrad(() =>
        fn(...xs)
          .mul(w)
          .sum(),
      ),
    );
    const r = await v.item();
    v.dispose();
    return r;
  };
  const leaves = hosts.map((h, i) => make(i, h, true));
  const loss = tidy(() =>
    fn(...leaves)
      .mul(w)
      .sum(),
  );
  loss.backward();
  loss.dispose();
  let maxError = 0;
  let worst: GradcheckResult["worst"] = null;
  let ok = true;
  for (let i = 0; i < hosts.length; i++) {
    const host = hosts[i];
    if (!host) continue;
    const analytical = leaves[i].grad
      ? Float64Array.from(await leaves[i].grad!.data())
      : new Float64Array(host.length);
    for (let j = 0; j < host.length; j++) {
      const orig = host[j];
      const eval1 = async (delta: number) => {
        host[j] = orig + delta;
        const xs = hosts.map((h, k) => make(k, h, false));
        const r = await scalar(xs);
        xs.forEach((x, k) => {
          if (hosts[k]) x.dispose();
        });
        return r;
      };
      const numerical = ((await eval1(eps)) - (await eval1(-eps))) / (2 * eps);
      host[j] = orig;
      const err = Math.abs(numerical - analytical[j]);
      if (err > atol + rtol * Math.abs(numerical)) ok = false;
      if (err > maxError || !Number.isFinite(err)) {
        maxError = err;
        worst = { input: i, index: j, analytical: analytical[j], numerical };
      }
    }
  }
  for (let i = 0; i < leaves.length; i++) if (hosts[i]) leaves[i].dispose();
  w.dispose();
  if (!ok && raise) {
    throw new Error(
      `gradcheck: input ${worst?.input} element ${worst?.index}: autograd ${worst?.analytical} vs finite difference ${worst?.numerical}`,
    );
  }
  return { ok, maxError, worst };
}
