// Indexing ops: indexSelect, gather, scatterAdd, oneHot, tril/triu, embedding.
import { fmtShape } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";
import { bufferOf, empty, isFloat, normDim, record, sameBackend } from "./core.js";
import { where } from "./elementwise.js";
import { arangeOn, triangleMask } from "./masks.js";
import { reshape } from "./shape.js";

function checkIndexTensor(op: string, index: Tensor): void {
  if (index.dtype !== "int32")
    throw new Error(`${op}: index must be int32, got ${index.dtype} ${fmtShape(index.shape)}`);
}

/** Returns the slices of dim at a 1-D int32 index. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const backend = sameBackend("indexSelect", x, index);
  checkIndexTensor("indexSelect", index);
  if (index.ndim > 1) throw new Error(`indexSelect: index must be 1-D, got ${fmtShape(index.shape)}`);
  const d = normDim("indexSelect", dim, x.ndim, x.shape);
  const n = index.ndim === 0 ? 1 : index.shape[0];
  const shape = x.shape.slice();
  shape[d] = n;
  const out = empty(shape, x.dtype, backend);
  const iv = index._view("indexSelect");
  const idx = index.ndim === 0 ? { ...iv, shape: [1], strides: [0] } : iv;
  if (out.size > 0) backend.indexSelect(x._view("indexSelect"), idx, d, bufferOf(out));
  return isFloat(x.dtype) ? record("indexSelect", out, [x], [index], { dim: d, shape: x.shape }) : out;
}

/** Returns x gathered along dim at index (the result has index's shape), like torch.gather. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const backend = sameBackend("gather", x, index);
  checkIndexTensor("gather", index);
  const d = normDim("gather", dim, x.ndim, x.shape);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i])) {
    throw new Error(
      `gather: index ${fmtShape(index.shape)} does not fit input ${fmtShape(x.shape)} outside dim ${dim}`,
    );
  }
  const out = empty(index.shape, x.dtype, backend);
  if (out.size > 0) backend.gather(x._view("gather"), index._view("gather"), d, bufferOf(out));
  return isFloat(x.dtype) ? record("gather", out, [x], [index], { dim: d, shape: x.shape }) : out;
}

/** Returns a copy of x with src added at index along dim, like torch.scatter_add. */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const backend = sameBackend("scatterAdd", x, index, src);
  checkIndexTensor("scatterAdd", index);
  const d = normDim("scatterAdd", dim, x.ndim, x.shape);
  if (
    index.ndim !== x.ndim ||
    src.ndim !== x.ndim ||
    index.shape.some((s, i) => s > src.shape[i] || (i !== d && s > x.shape[i]))
  ) {
    throw new Error(
      `scatterAdd: index ${fmtShape(index.shape)}, src ${fmtShape(src.shape)} and input ${fmtShape(x.shape)} do not fit`,
    );
  }
  if (src.dtype !== x.dtype)
    throw new Error(`scatterAdd: src dtype ${src.dtype} differs from input dtype ${x.dtype}`);
  const out = empty(x.shape, x.dtype, backend);
  backend.copy(x._view("scatterAdd"), {
    buffer: bufferOf(out),
    shape: x.shape,
    strides: out.strides,
    offset: 0,
  });
  if (index.size > 0)
    backend.scatterAdd(bufferOf(out), x.shape, index._view("scatterAdd"), src._view("scatterAdd"), d);
  return isFloat(x.dtype)
    ? record("scatterAdd", out, [x, src], [index], { dim: d, srcShape: src.shape })
    : out;
}

/** Returns a [..., numClasses] int32 one-hot encoding of int32 indices. */
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  checkIndexTensor("oneHot", indices);
  const classes = arangeOn(indices.backend, numClasses, "int32");
  const idx = reshape(indices, [...indices.shape, 1]);
  const eq = idx.eq(classes);
  const out = eq.to("int32");
  for (const t of [classes, idx, eq]) t.dispose();
  return out;
}

/** Returns x with elements above the diagonal (of the last two dims) zeroed. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  if (x.ndim < 2) throw new Error(`tril: expected at least 2 dims, got ${fmtShape(x.shape)}`);
  const mask = triangleMask(x.backend, x.shape[x.ndim - 2], x.shape[x.ndim - 1], diagonal, true);
  const out = where(mask, x, 0);
  mask.dispose();
  return out;
}

/** Returns x with elements below the diagonal (of the last two dims) zeroed. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  if (x.ndim < 2) throw new Error(`triu: expected at least 2 dims, got ${fmtShape(x.shape)}`);
  const mask = triangleMask(x.backend, x.shape[x.ndim - 2], x.shape[x.ndim - 1], diagonal, false);
  const out = where(mask, x, 0);
  mask.dispose();
  return out;
}

/** Returns rows of weight [V, D] at int32 ids of any shape: [...ids.shape, D]. */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  checkIndexTensor("embedding", ids);
  if (weight.ndim !== 2)
    throw new Error(`embedding: weight must be [numEmbeddings, dim], got ${fmtShape(weight.shape)}`);
  const flat = reshape(ids, [ids.size]);
  const rows = indexSelect(weight, 0, flat);
  const out = reshape(rows, [...ids.shape, weight.shape[1]]);
  flat.dispose();
  rows.dispose();
  return out;
}
