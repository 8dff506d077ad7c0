// Elementwise kernels of the reference backend: each op's JavaScript expression is compiled once into
// its own row kernel so every loop stays monomorphic. The unary ops and their `<op>Grad` rows are
// generated from the shared table in ../unary-ops.ts; the binary rows read `a`, `b`.
import type { BinaryOp, TypedArray, UnaryOp } from "../backend.js";
import { DIFFERENTIABLE_UNARY, letCount, toJs, UNARY_OPS } from "../unary-ops.js";
import { erf, geluTanh, geluTanhDerivative, sigmoid, softplus } from "./math.js";

/** Forward expressions of the unary ops over `x` (p0/p1: the op's scalar parameters). */
const UNARY_EXPR = Object.fromEntries(
  (Object.keys(UNARY_OPS) as UnaryOp[]).map((op) => [
    op,
    toJs(UNARY_OPS[op].forward, { x: "x", g: "g", p0: "p0", p1: "p1" }),
  ]),
) as Record<UnaryOp, string>;

/** Expressions of the binary ops: the forward rows, then the `<op>Grad` rows (a = x, b = dy). */
const BINARY_EXPR = {
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
  ...Object.fromEntries(
    DIFFERENTIABLE_UNARY.map((op) => [
      `${op}Grad`,
      toJs(UNARY_OPS[op].grad!, { x: "a", g: "b", p0: "p0", p1: "p1" }),
    ]),
  ),
} as Record<BinaryOp, string>;

/** Returns `let t0, t1…;` for the locals an expression's let-bindings assign. */
function letDecl(op: string, expr: string): string {
  const row = UNARY_OPS[op as UnaryOp] ?? UNARY_OPS[op.replace(/Grad$/, "") as UnaryOp];
  const n = row ? Math.max(letCount(row.forward), row.grad ? letCount(row.grad) : 0) : 0;
  const used = Array.from({ length: n }, (_, i) => `t${i}`).filter((t) => expr.includes(t));
  return used.length > 0 ? `let ${used.join(", ")};` : "";
}

const helpers = { erf, sigmoid, softplus, geluTanh, geluTanhDerivative };

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
      ${letDecl(op, UNARY_EXPR[op])}
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
      ${letDecl(op, BINARY_EXPR[op])}
      for (let i = 0; i < n; i++) { const a = A[ao], b = B[bo]; O[oo] = ${BINARY_EXPR[op]}; ao += as; bo += bs; oo += os; }
    };`;
    fn = new Function("h", body)(helpers) as BinaryRow;
    binaryCache.set(op, fn);
  }
  return fn;
}
