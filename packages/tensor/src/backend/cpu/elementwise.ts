// Elementwise ops declared once as rows of a table (webgpu-torch style): each row is a JavaScript
// expression in `x` (unary) or `a`, `b` (binary; the *Grad rows read a = x, b = dy), compiled once
// into its own row kernel so every loop stays monomorphic.
import type { BinaryOp, TypedArray, UnaryOp } from "../backend.js";
import { erf, geluTanh, geluTanhDerivative, sigmoid } from "./math.js";

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Forward expressions of the unary ops; p0/p1 are the op's scalar parameters. */
export const UNARY_EXPR: Record<UnaryOp, string> = {
  neg: "-x",
  abs: "Math.abs(x)",
  sign: "Math.sign(x)",
  exp: "Math.exp(x)",
  log: "Math.log(x)",
  sqrt: "Math.sqrt(x)",
  rsqrt: "1 / Math.sqrt(x)",
  square: "x * x",
  reciprocal: "1 / x",
  sin: "Math.sin(x)",
  cos: "Math.cos(x)",
  tanh: "Math.tanh(x)",
  sigmoid: "h.sigmoid(x)",
  relu: "x > 0 ? x : 0",
  gelu: "0.5 * x * (1 + h.erf(x * h.SQRT1_2))",
  geluTanh: "h.geluTanh(x)",
  silu: "x * h.sigmoid(x)",
  softplus: "Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))",
  logSigmoid: "Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)))",
  floor: "Math.floor(x)",
  logicalNot: "x === 0 ? 1 : 0",
  affine: "x * p0 + p1",
  clamp: "x < p0 ? p0 : x > p1 ? p1 : x",
  powScalar: "Math.pow(x, p0)",
};

/** Expressions of the binary ops (forward rows and the dy·f'(x) backward rows). */
export const BINARY_EXPR: Record<BinaryOp, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "Math.pow(a, b)",
  maximum: "a > b || a !== a ? a : b",
  minimum: "a < b || a !== a ? a : b",
  eq: "a === b ? 1 : 0",
  ne: "a !== b ? 1 : 0",
  lt: "a < b ? 1 : 0",
  le: "a <= b ? 1 : 0",
  gt: "a > b ? 1 : 0",
  ge: "a >= b ? 1 : 0",
  logicalAnd: "a !== 0 && b !== 0 ? 1 : 0",
  logicalOr: "a !== 0 || b !== 0 ? 1 : 0",
  absGrad: "b * Math.sign(a)",
  sqrtGrad: "(0.5 * b) / Math.sqrt(a)",
  rsqrtGrad: "-0.5 * b / (a * Math.sqrt(a))",
  sinGrad: "b * Math.cos(a)",
  cosGrad: "-b * Math.sin(a)",
  tanhGrad: "b * (1 - Math.tanh(a) * Math.tanh(a))",
  sigmoidGrad: "b * h.sigmoid(a) * (1 - h.sigmoid(a))",
  reluGrad: "a > 0 ? b : 0",
  geluGrad: "b * (0.5 * (1 + h.erf(a * h.SQRT1_2)) + a * Math.exp(-0.5 * a * a) * h.INV_SQRT_2PI)",
  geluTanhGrad: "b * h.geluTanhDerivative(a)",
  siluGrad: "b * h.sigmoid(a) * (1 + a * (1 - h.sigmoid(a)))",
  softplusGrad: "b * h.sigmoid(a)",
  logSigmoidGrad: "b * h.sigmoid(-a)",
  clampGrad: "a >= p0 && a <= p1 ? b : 0",
  powScalarGrad: "p0 === 0 ? 0 : b * p0 * Math.pow(a, p0 - 1)",
};

const helpers = { erf, sigmoid, geluTanh, geluTanhDerivative, SQRT1_2, INV_SQRT_2PI };

/** A compiled unary row: out[oo + i] = f(x[xo + i·xs]) for i < n. */
export type UnaryRow = (
  x: TypedArray,
  xo: number,
  xs: number,
  out: TypedArray,
  oo: number,
  os: number,
  n: number,
  p0: number,
  p1: number,
) => void;
/** A compiled binary row. */
export type BinaryRow = (
  a: TypedArray,
  ao: number,
  as: number,
  b: TypedArray,
  bo: number,
  bs: number,
  out: TypedArray,
  oo: number,
  os: number,
  n: number,
  p0: number,
  p1: number,
) => void;

const unaryCache = new Map<string, UnaryRow>();
const binaryCache = new Map<string, BinaryRow>();

/** Returns the compiled row kernel of a unary op. */
export function unaryRow(op: UnaryOp): UnaryRow {
  let fn = unaryCache.get(op);
  if (!fn) {
    const body = `return function ${op}(X, xo, xs, O, oo, os, n, p0, p1) {
      for (let i = 0; i < n; i++) { const x = X[xo]; O[oo] = ${UNARY_EXPR[op]}; xo += xs; oo += os; }
    };`;
    fn = new Function("h", body)(helpers) as UnaryRow;
    unaryCache.set(op, fn);
  }
  return fn;
}

/** Returns the compiled row kernel of a binary op. */
export function binaryRow(op: BinaryOp): BinaryRow {
  let fn = binaryCache.get(op);
  if (!fn) {
    const body = `return function ${op}(A, ao, as, B, bo, bs, O, oo, os, n, p0, p1) {
      for (let i = 0; i < n; i++) { const a = A[ao], b = B[bo]; O[oo] = ${BINARY_EXPR[op]}; ao += as; bo += bs; oo += os; }
    };`;
    fn = new Function("h", body)(helpers) as BinaryRow;
    binaryCache.set(op, fn);
  }
  return fn;
}
