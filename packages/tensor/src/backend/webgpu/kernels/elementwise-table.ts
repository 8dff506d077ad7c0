/**
 * Every elementwise op as one row: its arguments, its forward WGSL expression, and the gradient of
 * each argument given the upstream gradient `g` (and the output `y` where that is cheaper).
 * Scalars `s0`, `s1` come from the dispatch parameters (clamp bounds, affine coefficients).
 * The single elementwise shader is generated from these rows: adding an op is adding a row.
 */
export interface ElementwiseRow {
  name: string;
  args: readonly string[];
  /** Forward expression over the args (all f32). */
  forward: string;
  /** Gradient expression per argument, over the args, `g` and `y`; absent for non-differentiable ops. */
  grads?: readonly string[];
}

export const ELEMENTWISE_TABLE: readonly ElementwiseRow[] = [
  // unary
  { name: "identity", args: ["x"], forward: "x", grads: ["g"] },
  { name: "neg", args: ["x"], forward: "-x", grads: ["-g"] },
  { name: "abs", args: ["x"], forward: "abs(x)", grads: ["g * sign(x)"] },
  { name: "sign", args: ["x"], forward: "sign(x)", grads: ["0.0"] },
  { name: "exp", args: ["x"], forward: "exp(x)", grads: ["g * y"] },
  { name: "log", args: ["x"], forward: "log(x)", grads: ["g / x"] },
  { name: "sqrt", args: ["x"], forward: "sqrt(x)", grads: ["g * 0.5 / y"] },
  { name: "rsqrt", args: ["x"], forward: "inverseSqrt(x)", grads: ["-0.5 * g * y * y * y"] },
  { name: "reciprocal", args: ["x"], forward: "1.0 / x", grads: ["-g * y * y"] },
  { name: "square", args: ["x"], forward: "x * x", grads: ["2.0 * g * x"] },
  { name: "sin", args: ["x"], forward: "sin(x)", grads: ["g * cos(x)"] },
  { name: "cos", args: ["x"], forward: "cos(x)", grads: ["-g * sin(x)"] },
  { name: "tanh", args: ["x"], forward: "tanh_(x)", grads: ["g * (1.0 - y * y)"] },
  { name: "sigmoid", args: ["x"], forward: "sigmoid_(x)", grads: ["g * y * (1.0 - y)"] },
  { name: "relu", args: ["x"], forward: "max(x, 0.0)", grads: ["select(0.0, g, x > 0.0)"] },
  {
    name: "gelu",
    args: ["x"],
    forward: "0.5 * x * (1.0 + erf_(x * 0.7071067811865476))",
    grads: ["g * gelu_grad(x)"],
  },
  { name: "geluTanh", args: ["x"], forward: "gelu_tanh(x)", grads: ["g * gelu_tanh_grad(x)"] },
  { name: "silu", args: ["x"], forward: "x * sigmoid_(x)", grads: ["g * silu_grad(x)"] },
  { name: "softplus", args: ["x"], forward: "softplus_(x)", grads: ["g * sigmoid_(x)"] },
  { name: "logSigmoid", args: ["x"], forward: "-softplus_(-x)", grads: ["g * sigmoid_(-x)"] },
  {
    name: "clamp",
    args: ["x"],
    forward: "min(max(x, s0), s1)",
    grads: ["select(0.0, g, x >= s0 && x <= s1)"],
  },
  { name: "affine", args: ["x"], forward: "x * s0 + s1", grads: ["g * s0"] },
  {
    name: "powScalar",
    args: ["x"],
    forward: "pow_(x, s0)",
    grads: ["select(g * s0 * pow_(x, s0 - 1.0), 0.0, s0 == 0.0)"],
  },
  { name: "floor", args: ["x"], forward: "floor(x)", grads: ["0.0"] },
  { name: "logicalNot", args: ["x"], forward: "select(0.0, 1.0, x == 0.0)" },
  { name: "fill", args: [], forward: "s0" },
  // binary
  { name: "add", args: ["a", "b"], forward: "a + b", grads: ["g", "g"] },
  { name: "sub", args: ["a", "b"], forward: "a - b", grads: ["g", "-g"] },
  { name: "mul", args: ["a", "b"], forward: "a * b", grads: ["g * b", "g * a"] },
  { name: "div", args: ["a", "b"], forward: "a / b", grads: ["g / b", "-g * a / (b * b)"] },
  {
    name: "pow",
    args: ["a", "b"],
    forward: "pow_(a, b)",
    grads: ["g * b * pow_(a, b - 1.0)", "g * y * log(a)"],
  },
  {
    name: "maximum",
    args: ["a", "b"],
    forward: "max(a, b)",
    grads: [
      "g * select(select(0.0, 0.5, a == b), 1.0, a > b)",
      "g * select(select(0.0, 0.5, a == b), 1.0, b > a)",
    ],
  },
  {
    name: "minimum",
    args: ["a", "b"],
    forward: "min(a, b)",
    grads: [
      "g * select(select(0.0, 0.5, a == b), 1.0, a < b)",
      "g * select(select(0.0, 0.5, a == b), 1.0, b < a)",
    ],
  },
  { name: "eq", args: ["a", "b"], forward: "select(0.0, 1.0, a == b)" },
  { name: "ne", args: ["a", "b"], forward: "select(0.0, 1.0, a != b)" },
  { name: "lt", args: ["a", "b"], forward: "select(0.0, 1.0, a < b)" },
  { name: "le", args: ["a", "b"], forward: "select(0.0, 1.0, a <= b)" },
  { name: "gt", args: ["a", "b"], forward: "select(0.0, 1.0, a > b)" },
  { name: "ge", args: ["a", "b"], forward: "select(0.0, 1.0, a >= b)" },
  { name: "logicalAnd", args: ["a", "b"], forward: "select(0.0, 1.0, a != 0.0 && b != 0.0)" },
  { name: "logicalOr", args: ["a", "b"], forward: "select(0.0, 1.0, a != 0.0 || b != 0.0)" },
  // ternary
  {
    name: "where",
    args: ["c", "a", "b"],
    forward: "select(b, a, c != 0.0)",
    grads: ["0.0", "select(0.0, g, c != 0.0)", "select(g, 0.0, c != 0.0)"],
  },
  { name: "mulAdd", args: ["a", "b", "c"], forward: "a * b + c", grads: ["g * b", "g * a", "g"] },
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

/** One entry of the generated op list: a forward row or a row's gradient for one argument. */
export interface ElementwiseOp {
  code: number;
  name: string;
  arity: number;
  /** Index into ELEMENTWISE_TABLE. */
  row: number;
  /** -1 for the forward, else the argument the gradient is for. */
  gradOf: number;
  expr: string;
}

/** Returns the forward and gradient ops of the table, numbered. */
function numberOps(): ElementwiseOp[] {
  const ops: ElementwiseOp[] = [];
  ELEMENTWISE_TABLE.forEach((row, r) => {
    ops.push({
      code: ops.length,
      name: row.name,
      arity: row.args.length,
      row: r,
      gradOf: -1,
      expr: row.forward,
    });
    row.grads?.forEach((expr, i) => {
      // gradient kernels read the args, then g; y (the output) is recomputed inline where used
      ops.push({
        code: ops.length,
        name: `${row.name}.grad${i}`,
        arity: row.args.length + 1,
        row: r,
        gradOf: i,
        expr,
      });
    });
  });
  return ops;
}

export const ELEMENTWISE_OPS: readonly ElementwiseOp[] = numberOps();
const BY_NAME = new Map(ELEMENTWISE_OPS.map((o) => [o.name, o]));

/** Returns the op named `name` (`"exp"`, or `"mul.grad1"` for the gradient of mul's second argument). */
export function elementwiseOp(name: string): ElementwiseOp {
  const op = BY_NAME.get(name);
  if (!op) throw new Error(`webgpu: no elementwise op "${name}"`);
  return op;
}
