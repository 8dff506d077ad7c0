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

it("gradcheck: dropout with a fixed seed (the same mask each call)", async () => {
  const x = T.randn([4, 5], { seed: 11, dtype: "float64" });
  const r = await T.gradcheck((t) => T.dropout(t, 0.3, { seed: 5 }), [x]);
  expect(r.ok).toBe(true);
});

it("gradcheck: a transformer block end to end", async () => {
  const block = new T.nn.Block(
    { vocabSize: 8, dModel: 8, nLayers: 1, nHeads: 2, nKvHeads: 1, ffnHidden: 12 },
    { seed: 2, dtype: "float64" },
  );
  const x = T.randn([1, 3, 8], { seed: 12, dtype: "float64" });
  const r = await T.gradcheck((t) => block.forward(t), [x], { atol: 1e-6, rtol: 1e-4 });
  expect(r.ok).toBe(true);
});
