// gradcheck in float64 for every differentiable op: the golden cases' inputs, autograd against
// central finite differences of our own forward (on backends with float64).
import { expect, it } from "vitest";
import * as T from "../src/index.js";
import { backends, describeBackends } from "./backends.js";
import { decode, fixtures, OPS } from "./golden-ops.js";

const float64Backends = backends.filter((b) => b.backend?.supportsFloat64).map((b) => b.name);

describeBackends(
  "gradcheck float64",
  () => {
    for (const c of fixtures.cases) {
      if (!c.grads) continue;
      it(c.name, async () => {
        const inputs = c.inputs.map((b) =>
          T.tensor(decode(b.data, b.dtype), {
            shape: b.shape,
            dtype: b.dtype === "float32" ? "float64" : b.dtype,
          }),
        );
        // an additive attention mask is a constant (no gradient flows to it), so hold it fixed
        const fixed = c.op === "sdpa_add" ? inputs.slice(3) : [];
        const free = inputs.slice(0, inputs.length - fixed.length);
        const r = await T.gradcheck((...xs) => OPS[c.op]([...xs, ...fixed], c.attrs), free, {
          atol: 1e-6,
          rtol: 1e-4,
          eps: 1e-6,
        });
        expect(r.ok).toBe(true);
        for (const t of inputs) t.dispose();
      });
    }
  },
  float64Backends,
);

it("gradcheck reports a wrong gradient", async () => {
  // at relu's kink autograd says 0 while the central difference says 0.5
  const x = T.tensor([0], { dtype: "float64" });
  const r = await T.gradcheck((t) => t.relu(), [x], { raise: false });
  expect(r.ok).toBe(false);
  await expect(T.gradcheck((t) => t.relu(), [x])).rejects.toThrow(/gradcheck: input 0 element 0/);
});
