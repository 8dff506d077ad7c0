// Every op against PyTorch (fixtures from scripts/golden.py): forward output and the gradient of
// every float input for a random upstream gradient, at float32 tolerance, on every backend.
import { expect, it } from "vitest";
import * as T from "../src/index.js";
import { backends, describeBackends } from "./backends.js";
import { decode, fixtures, OPS } from "./golden-ops.js";

function expectClose(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol = 2e-4,
  atol = 2e-5,
): void {
  expect(got.length, `${name}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w)) {
      expect(Number.isNaN(g), `${name}[${i}] should be NaN`).toBe(true);
      continue;
    }
    if (!Number.isFinite(w)) {
      expect(g, `${name}[${i}]`).toBe(w);
      continue;
    }
    if (Math.abs(g - w) > atol + rtol * Math.abs(w)) {
      throw new Error(`${name}[${i}]: got ${g}, PyTorch ${w} (|diff| ${Math.abs(g - w)})`);
    }
  }
}

function goldenSuite(float: "float32" | "float64") {
  return () => {
    for (const c of fixtures.cases) {
      it(`${c.name}${float === "float64" ? " (float64)" : ""}`, async () => {
        const fn = OPS[c.op];
        expect(fn, `no mapping for op ${c.op}`).toBeDefined();
        const inputs = c.inputs.map((b) =>
          T.tensor(decode(b.data, b.dtype), {
            shape: b.shape,
            dtype: b.dtype === "float32" ? float : b.dtype,
            requiresGrad: b.dtype === "float32" && !!c.grads,
          }),
        );
        const out = fn(inputs, c.attrs);
        expect(out.shape).toEqual(c.out.shape);
        expect(out.dtype).toBe(c.out.dtype === "float32" ? float : c.out.dtype);
        const scale = Math.max(
          1,
          ...Array.from(decode(c.out.data, c.out.dtype) as Float32Array, Math.abs).filter(Number.isFinite),
        );
        expectClose(
          `${c.name} output`,
          await out.data(),
          decode(c.out.data, c.out.dtype),
          2e-4,
          2e-5 * scale,
        );
        if (c.gout && c.grads) {
          out.backward(T.tensor(decode(c.gout, "float32"), { shape: c.out.shape, dtype: float }));
          for (let i = 0; i < inputs.length; i++) {
            const want = c.grads[i];
            if (!want) continue;
            const g = inputs[i].grad;
            // an input the op does not differentiate (a detached mask) has no gradient: PyTorch's is zero
            const got = g ? await g.data() : new Float32Array(inputs[i].size);
            expectClose(`${c.name} grad ${i}`, got, decode(want, "float32"), 5e-4, 5e-5 * scale);
          }
        }
        out.dispose();
        for (const t of inputs) t.dispose();
      });
    }
  };
}

describeBackends("golden vs PyTorch", goldenSuite("float32"));
// the float64 kernels against the same fixtures (stored as float32, so float32 tolerance)
describeBackends(
  "golden vs PyTorch, float64",
  goldenSuite("float64"),
  backends.filter((b) => b.backend?.supportsFloat64).map((b) => b.name),
);
