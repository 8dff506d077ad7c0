import type { UnaryOp } from "../../backend.js";
import { DIFFERENTIABLE_UNARY, toWgsl, UNARY_OPS } from "../../unary-ops.js";

/**
 * Every elementwise op as one row: its arguments and its WGSL expression over them (all f32), after
 * `lets` that bind intermediate values. Scalars `s0`, `s1` come from the dispatch parameters (clamp
 * bounds, affine coefficients). The unary rows and their `<op>Grad` rows (args x, then the upstream
 * gradient g) are generated from the shared table in ../../unary-ops.ts; the single elementwise shader
 * is generated from these rows.
 */
export interface ElementwiseRow {
  name: string;
  args: readonly string[];
  expr: string;
  lets?: string;
}

const WGSL_NAMES = { x: "x", g: "g", p0: "s0", p1: "s1" };

function unaryRows(): ElementwiseRow[] {
  const rows: ElementwiseRow[] = [];
  for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
    rows.push({ name: op, args: ["x"], ...toWgsl(UNARY_OPS[op].forward, WGSL_NAMES) });
  }
  for (const op of DIFFERENTIABLE_UNARY) {
    rows.push({ name: `${op}Grad`, args: ["x", "g"], ...toWgsl(UNARY_OPS[op].grad!, WGSL_NAMES) });
  }
  return rows;
}

export const ELEMENTWISE_TABLE: readonly ElementwiseRow[] = [
  { name: "identity", args: ["x"], expr: "x" },
  { name: "fill", args: [], expr: "s0" },
  ...unaryRows(),
  // binary
  { name: "add", args: ["a", "b"], expr: "a + b" },
  { name: "sub", args: ["a", "b"], expr: "a - b" },
  { name: "mul", args: ["a", "b"], expr: "a * b" },
  { name: "div", args: ["a", "b"], expr: "a / b" },
  { name: "pow", args: ["a", "b"], expr: "pow_(a, b)" },
  { name: "maximum", args: ["a", "b"], expr: "max(a, b)" },
  { name: "minimum", args: ["a", "b"], expr: "min(a, b)" },
  { name: "eq", args: ["a", "b"], expr: "select(0.0, 1.0, a == b)" },
  { name: "ne", args: ["a", "b"], expr: "select(0.0, 1.0, a != b)" },
  { name: "lt", args: ["a", "b"], expr: "select(0.0, 1.0, a < b)" },
  { name: "le", args: ["a", "b"], expr: "select(0.0, 1.0, a <= b)" },
  { name: "gt", args: ["a", "b"], expr: "select(0.0, 1.0, a > b)" },
  { name: "ge", args: ["a", "b"], expr: "select(0.0, 1.0, a >= b)" },
  { name: "logicalAnd", args: ["a", "b"], expr: "select(0.0, 1.0, a != 0.0 && b != 0.0)" },
  { name: "logicalOr", args: ["a", "b"], expr: "select(0.0, 1.0, a != 0.0 || b != 0.0)" },
  // ternary
  { name: "where", args: ["c", "a", "b"], expr: "select(b, a, c != 0.0)" },
];

/** WGSL helpers the rows call. */
export const ELEMENTWISE_HELPERS = /* wgsl */ `
fn inf_() -> f32 { return bitcast<f32>(0x7f800000u | (pu(0u) & 0u)); }
fn nan_() -> f32 { return bitcast<f32>(0x7fc00000u | (pu(0u) & 0u)); }
fn sigmoid_(x: f32) -> f32 { if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); } let e = exp(x); return e / (1.0 + e); }
fn tanh_(x: f32) -> f32 { let c = clamp(x, -15.0, 15.0); let e = exp(2.0 * c); return (e - 1.0) / (e + 1.0); }
fn softplus_(x: f32) -> f32 { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }
fn erf_(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26 refined: |error| < 1.5e-7.
  let s = sign(x); let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1.0 - p * exp(-a * a));
}
fn gelu_grad(x: f32) -> f32 {
  let cdf = 0.5 * (1.0 + erf_(x * 0.7071067811865476));
  return cdf + x * 0.3989422804014327 * exp(-0.5 * x * x);
}
fn gelu_tanh(x: f32) -> f32 { return 0.5 * x * (1.0 + tanh_(0.7978845608028654 * (x + 0.044715 * x * x * x))); }
fn gelu_tanh_grad(x: f32) -> f32 {
  let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  let t = tanh_(u);
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x);
}
fn silu_grad(x: f32) -> f32 { let s = sigmoid_(x); return s * (1.0 + x * (1.0 - s)); }
fn pow_(a: f32, b: f32) -> f32 {
  // WGSL pow is undefined for a < 0; follow C pow for integral exponents.
  if (b == 0.0) { return 1.0; }
  if (a == 0.0) { return select(0.0, inf_(), b < 0.0); }
  if (a > 0.0) { return pow(a, b); }
  if (floor(b) != b) { return nan_(); }
  let m = pow(-a, b);
  return select(m, -m, (abs(b) % 2.0) == 1.0);
}
`;

/** One entry of the op list: a row and its switch code in the shader. */
export interface ElementwiseOp {
  code: number;
  name: string;
  arity: number;
  /** Index into ELEMENTWISE_TABLE. */
  row: number;
}

export const ELEMENTWISE_OPS: readonly ElementwiseOp[] = ELEMENTWISE_TABLE.map((row, r) => ({
  code: r,
  name: row.name,
  arity: row.args.length,
  row: r,
}));
const BY_NAME = new Map(ELEMENTWISE_OPS.map((o) => [o.name, o]));

/** Returns the op named `name` (`"exp"`, or `"expGrad"` for its derivative). */
export function elementwiseOp(name: string): ElementwiseOp {
  const op = BY_NAME.get(name);
  if (!op) throw new Error(`webgpu: no elementwise op "${name}"`);
  return op;
}
