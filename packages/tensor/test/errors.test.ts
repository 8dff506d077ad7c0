// Bad input: errors name the op and the shapes.
import { describe, expect, it } from "vitest";
import * as T from "../src/index.js";
import { CpuBackend } from "../src/index.js";

describe("bad input", () => {
  it("a broadcast mismatch names the op and both shapes", () => {
    const a = T.zeros([2, 3]);
    const b = T.zeros([4, 3]);
    expect(() => a.add(b)).toThrow("add: shapes [2,3] and [4,3] cannot be broadcast");
  });
  it("a matmul mismatch names both shapes and the inner sizes", () => {
    expect(() => T.zeros([2, 3]).matmul(T.zeros([4, 5]))).toThrow(
      "matmul: shapes [2,3] and [4,5] do not align (3 vs 4)",
    );
  });
  it("a reshape to the wrong size names the shapes", () => {
    expect(() => T.zeros([2, 3]).reshape(4, 2)).toThrow(
      "reshape: cannot reshape [2,3] (6 elements) into [4,2]",
    );
  });
  it("cat of mismatched shapes names them", () => {
    expect(() => T.cat([T.zeros([2, 3]), T.zeros([2, 4])], 0)).toThrow(
      "cat: shapes [2,3], [2,4] do not match outside dim 0",
    );
  });
  it("a float index is refused", () => {
    expect(() => T.zeros([5, 2]).indexSelect(0, T.tensor([1, 2]))).toThrow(
      "indexSelect: index must be int32, got float32 [2]",
    );
  });
  it("an index out of range names the op, the index and the dim", () => {
    expect(() => T.zeros([5, 2]).indexSelect(0, T.tensor([1, 7], { dtype: "int32" }))).toThrow(
      "indexSelect: index 7 is out of range for dim 0 of size 5",
    );
  });
  it("crossEntropy with float targets is refused", () => {
    expect(() => T.crossEntropy(T.zeros([2, 3]), T.zeros([2]))).toThrow(
      "crossEntropy: target must be int32 class indices, got float32 [2]",
    );
  });
  it("crossEntropy with a target past the classes names the row", () => {
    expect(() => T.crossEntropy(T.zeros([2, 3]), T.tensor([0, 3], { dtype: "int32" }))).toThrow(
      "crossEntropy: target 3 at row 1 is outside [0, 3)",
    );
  });
  it("matmul of int tensors is refused", () => {
    expect(() => T.zeros([2, 2], { dtype: "int32" }).matmul(T.zeros([2, 2], { dtype: "int32" }))).toThrow(
      /matmul: expected two float tensors/,
    );
  });
  it("requiresGrad on an int tensor is refused", () => {
    expect(() => T.zeros([2], { dtype: "int32", requiresGrad: true })).toThrow(
      "requiresGrad: only float tensors can require gradients (got int32 [2])",
    );
  });
  it("backward on a non-scalar without a gradient names the shape", () => {
    const x = T.ones([2, 3], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(
      "backward: gradient can be implied only for a scalar output; got [2,3], pass grad",
    );
  });
  it("backward on a tensor outside the graph says so", () => {
    expect(() => T.ones([1]).backward()).toThrow("backward: tensor [1] does not require grad");
  });
  it("a second backward through a freed graph is an error", () => {
    const x = T.ones([2], { requiresGrad: true });
    const y = x.mul(3).sum();
    y.backward();
    expect(() => y.backward()).toThrow(/already freed/);
  });
  it("use after dispose names the op and the shape", () => {
    const x = T.ones([2, 2]);
    x.dispose();
    expect(() => x.exp()).toThrow("exp: tensor [2,2] (float32) was used after dispose()");
    expect(() => T.ones([2, 2]).add(x)).toThrow("add: tensor [2,2] (float32) was used after dispose()");
  });
  it("mixing devices names both", () => {
    const other = new (class extends CpuBackend {
      override readonly name = "other";
    })();
    const a = T.ones([2], { device: other });
    expect(() => a.add(T.ones([2]))).toThrow(
      "add: tensors are on different devices ([2] on other, [2] on cpu)",
    );
  });
  it("an uninitialised webgpu device is explained", () => {
    expect(() => T.ones([2], { device: "webgpu" })).toThrow(
      /device "webgpu" is not initialised: call await init\(\{ device: "webgpu" \}\) first/,
    );
  });
  it("ragged nested arrays name the position", () => {
    expect(() => T.tensor([[1, 2], [3]])).toThrow(
      "tensor: ragged nested array at data[1] (expected 2 elements)",
    );
  });
  it("attention head counts that do not divide are refused", () => {
    const q = T.zeros([1, 3, 2, 4]);
    const kv = T.zeros([1, 2, 2, 4]);
    expect(() => T.scaledDotProductAttention(q, kv, kv)).toThrow(
      /query heads 3 are not a multiple of key\/value heads 2/,
    );
  });
  it("noGrad and tidy refuse async functions", () => {
    expect(() => T.noGrad(async () => 1)).toThrow(/noGrad: fn returned a Promise/);
    expect(() => T.tidy(async () => 1)).toThrow(/tidy: fn returned a Promise/);
  });
  it("a bad dim names the op and the shape", () => {
    expect(() => T.zeros([2, 3]).sum(2)).toThrow("sum: dim 2 is out of range for shape [2,3]");
  });
});
