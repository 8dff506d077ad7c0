// Elementwise ops with NumPy broadcasting. Scalars stay scalars where an affine kernel can take them.

import type { BinaryOp, DType, UnaryOp } from "../backend/backend.js";
import { fmtShape } from "../backend/backend.js";
import type { Tensor } from "../tensor.js";
import {
  broadcastShapes,
  broadcastView,
  bufferOf,
  empty,
  isFloat,
  promote,
  record,
  sameBackend,
} from "./core.js";

/** Returns a one-element tensor holding value on t's backend (dtype follows t unless value needs a float). */
export function scalarLike(t: Tensor, value: number, dtype?: DType): Tensor {
  const dt =
    dtype ??
    (isFloat(t.dtype) || Number.isInteger(value) ? (t.dtype === "bool" ? "float32" : t.dtype) : "float32");
  const s = empty([], dt, t.backend);
  t.backend.fill({ buffer: bufferOf(s), shape: [], strides: [], offset: 0 }, value);
  return s;
}

/** Runs a unary kernel without recording (used by ops and gradient rules). */
export function unaryRaw(op: UnaryOp, x: Tensor, param?: number[], outDtype?: DType): Tensor {
  const v = x._view(op);
  const dtype =
    outDtype ??
    (isFloat(x.dtype) || op === "neg" || op === "abs" || op === "sign" || op === "affine" || op === "clamp"
      ? x.dtype
      : "float32");
  const tmp = dtype === x.dtype || op === "logicalNot" ? null : castRaw(x, dtype);
  const out = empty(x.shape, dtype, x.backend);
  x.backend.unary(op, tmp ? tmp._view(op) : v, bufferOf(out), param);
  tmp?.dispose();
  return out;
}

/** Runs a binary kernel with broadcasting, without recording. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, param?: number[], outDtype?: DType): Tensor {
  const backend = sameBackend(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const dt = promote(a.dtype, b.dtype);
  const comparison =
    op === "eq" ||
    op === "ne" ||
    op === "lt" ||
    op === "le" ||
    op === "gt" ||
    op === "ge" ||
    op === "logicalAnd" ||
    op === "logicalOr";
  const inDtype =
    op === "div" || op === "pow"
      ? isFloat(dt)
        ? dt
        : "float32"
      : dt === "bool" && !comparison
        ? "int32"
        : dt;
  const ca = a.dtype === inDtype ? a : castRaw(a, inDtype);
  const cb = b.dtype === inDtype ? b : castRaw(b, inDtype);
  const out = empty(shape, outDtype ?? (comparison ? "bool" : inDtype), backend);
  backend.binary(op, broadcastView(ca, shape, op), broadcastView(cb, shape, op), bufferOf(out), param);
  if (ca !== a) ca.dispose();
  if (cb !== b) cb.dispose();
  return out;
}

/** Returns x converted to dtype without recording. */
export function castRaw(x: Tensor, dtype: DType): Tensor {
  const out = empty(x.shape, dtype, x.backend);
  x.backend.copy(x._view("to"), { buffer: bufferOf(out), shape: x.shape, strides: out.strides, offset: 0 });
  return out;
}

/** Returns x converted to dtype (gradients flow between float dtypes). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x.clone();
  const out = castRaw(x, dtype);
  return isFloat(dtype) ? record("cast", out, [x], [], { dtype: x.dtype }) : out;
}

function unaryOp(op: UnaryOp, x: Tensor, param?: number[]): Tensor {
  const out = unaryRaw(op, x, param);
  return record(op, out, [x], [x], { param });
}

function toTensor(a: Tensor, b: Tensor | number): Tensor {
  return typeof b === "number" ? scalarLike(a, b) : b;
}

function binaryOp(op: BinaryOp, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === "number" && typeof b === "number")
    throw new Error(`${op}: at least one operand must be a tensor`);
  const ta = typeof a === "number" ? scalarLike(b as Tensor, a) : a;
  const tb = toTensor(ta, b);
  try {
    const out = binaryRaw(op, ta, tb);
    if (!isFloat(out.dtype)) return out;
    return record(
      op,
      out,
      [ta, tb],
      op === "add" || op === "sub" ? [] : op === "pow" ? [ta, tb, out] : [ta, tb],
      {
        aShape: ta.shape,
        bShape: tb.shape,
      },
    );
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

function affine(x: Tensor, scale: number, shift: number): Tensor {
  return unaryOp("affine", x, [scale, shift]);
}

/** Returns a + b with broadcasting. */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number" && isFloat(a.dtype)) return affine(a, 1, b);
  if (typeof a === "number" && typeof b !== "number" && isFloat(b.dtype)) return affine(b, 1, a);
  return binaryOp("add", a, b);
}
/** Returns a − b with broadcasting. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number" && isFloat(a.dtype)) return affine(a, 1, -b);
  if (typeof a === "number" && typeof b !== "number" && isFloat(b.dtype)) return affine(b, -1, a);
  return binaryOp("sub", a, b);
}
/** Returns a · b with broadcasting. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number" && isFloat(a.dtype)) return affine(a, b, 0);
  if (typeof a === "number" && typeof b !== "number" && isFloat(b.dtype)) return affine(b, a, 0);
  return binaryOp("mul", a, b);
}
/** Returns a / b with broadcasting (float result). */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  return binaryOp("div", a, b);
}
/** Returns a ** b with broadcasting. */
export function pow(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === "number" && typeof a !== "number") {
    if (b === 2) return unaryOp("square", a);
    return unaryOp("powScalar", a, [b]);
  }
  return binaryOp("pow", a, b);
}
/** Returns the elementwise maximum. */
export function maximum(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("maximum", a, b);
}
/** Returns the elementwise minimum. */
export function minimum(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("minimum", a, b);
}
/** Returns bool a == b. */
export function eq(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("eq", a, b);
}
/** Returns bool a != b. */
export function ne(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("ne", a, b);
}
/** Returns bool a < b. */
export function lt(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("lt", a, b);
}
/** Returns bool a <= b. */
export function le(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("le", a, b);
}
/** Returns bool a > b. */
export function gt(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("gt", a, b);
}
/** Returns bool a >= b. */
export function ge(a: Tensor, b: Tensor | number): Tensor {
  return binaryOp("ge", a, b);
}
/** Returns −x. */
export function neg(x: Tensor): Tensor {
  return unaryOp("neg", x);
}
/** Returns |x|. */
export function abs(x: Tensor): Tensor {
  return unaryOp("abs", x);
}
/** Returns e^x. */
export function exp(x: Tensor): Tensor {
  return unaryOp("exp", x);
}
/** Returns ln x. */
export function log(x: Tensor): Tensor {
  return unaryOp("log", x);
}
/** Returns √x. */
export function sqrt(x: Tensor): Tensor {
  return unaryOp("sqrt", x);
}
/** Returns 1/√x. */
export function rsqrt(x: Tensor): Tensor {
  return unaryOp("rsqrt", x);
}
/** Returns sin x. */
export function sin(x: Tensor): Tensor {
  return unaryOp("sin", x);
}
/** Returns cos x. */
export function cos(x: Tensor): Tensor {
  return unaryOp("cos", x);
}
/** Returns tanh x. */
export function tanh(x: Tensor): Tensor {
  return unaryOp("tanh", x);
}
/** Returns the logistic sigmoid of x. */
export function sigmoid(x: Tensor): Tensor {
  return unaryOp("sigmoid", x);
}
/** Returns max(x, 0). */
export function relu(x: Tensor): Tensor {
  return unaryOp("relu", x);
}
/** Returns GELU of x: exact (erf) or the tanh approximation. */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  return unaryOp(approximate === "tanh" ? "geluTanh" : "gelu", x);
}
/** Returns x·sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return unaryOp("silu", x);
}
/** Returns ln(1 + e^x). */
export function softplus(x: Tensor): Tensor {
  return unaryOp("softplus", x);
}
/** Returns ln sigmoid(x). */
export function logSigmoid(x: Tensor): Tensor {
  return unaryOp("logSigmoid", x);
}
/** Returns x clamped to [min, max]. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined)
    throw new Error(`clamp: give min or max (tensor ${fmtShape(x.shape)})`);
  return unaryOp("clamp", x, [min ?? -Infinity, max ?? Infinity]);
}
/** Returns cond ? a : b elementwise with broadcasting (cond is bool). */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const ta = typeof a === "number" ? scalarLike(cond, a, typeof b === "number" ? "float32" : b.dtype) : a;
  const tb = typeof b === "number" ? scalarLike(cond, b, ta.dtype) : b;
  try {
    const backend = sameBackend("where", cond, ta, tb);
    if (cond.dtype !== "bool")
      throw new Error(`where: condition must be bool, got ${cond.dtype} ${fmtShape(cond.shape)}`);
    const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, ta.shape), tb.shape);
    const dt = promote(ta.dtype, tb.dtype);
    const ca = ta.dtype === dt ? ta : castRaw(ta, dt);
    const cb = tb.dtype === dt ? tb : castRaw(tb, dt);
    const out = empty(shape, dt, backend);
    backend.where(
      broadcastView(cond, shape, "where"),
      broadcastView(ca, shape, "where"),
      broadcastView(cb, shape, "where"),
      bufferOf(out),
    );
    if (ca !== ta) ca.dispose();
    if (cb !== tb) cb.dispose();
    return isFloat(dt) ? record("where", out, [ta, tb], [cond], { aShape: ta.shape, bShape: tb.shape }) : out;
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}
/** Returns where(mask, value, x). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}
/** Returns x². */
export function square(x: Tensor): Tensor {
  return unaryOp("square", x);
}
/** Returns 1/x. */
export function reciprocal(x: Tensor): Tensor {
  return unaryOp("reciprocal", x);
}
/** Returns the sign of x (−1, 0 or 1). */
export function sign(x: Tensor): Tensor {
  return unaryOp("sign", x);
}
/** Returns bool ¬x (x ≠ 0 counts as true). */
export function logicalNot(x: Tensor): Tensor {
  return unaryRaw("logicalNot", x, undefined, "bool");
}
/** Returns bool a ∧ b with broadcasting. */
export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  return binaryRaw("logicalAnd", a, b);
}
/** Returns bool a ∨ b with broadcasting. */
export function logicalOr(a: Tensor, b: Tensor): Tensor {
  return binaryRaw("logicalOr", a, b);
}
