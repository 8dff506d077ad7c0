// Every unary elementwise op written once, as a row holding its forward expression and its derivative
// (webgpu-torch's op table): the reference CPU kernels (JavaScript), the WGSL shader cases, the
// WebAssembly SIMD kernels and the autograd rules are all generated from these rows. The expressions
// are small trees built with the functions below, so each backend gets its own spelling of the same
// formula; a backend that cannot spell a primitive (WebAssembly has no log or sin) gets no kernel for
// that row and falls back to the reference.
import type { UnaryOp } from "./backend.js";

/** The primitives an expression may use. Comparisons and `and` give booleans, which only `select` reads. */
export type Prim =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "neg"
  | "abs"
  | "sign"
  | "floor"
  | "exp"
  | "log"
  | "sqrt"
  | "sin"
  | "cos"
  | "tanh"
  | "sigmoid"
  | "erf"
  | "softplus"
  | "geluTanh"
  | "geluTanhGrad"
  | "pow"
  | "gt"
  | "ge"
  | "lt"
  | "le"
  | "eq"
  | "and"
  | "select";

/** An expression over the input `x`, the upstream gradient `g` and the op's parameters `p0`, `p1`. */
export type Expr =
  | { kind: "var"; name: "x" | "g" | "p0" | "p1" }
  | { kind: "num"; value: number }
  | { kind: "prim"; prim: Prim; args: Expr[] }
  | { kind: "let"; id: number; value: Expr; body: Expr }
  | { kind: "ref"; id: number };

type Arg = Expr | number;
const lift = (a: Arg): Expr => (typeof a === "number" ? { kind: "num", value: a } : a);
const prim =
  (p: Prim) =>
  (...args: Arg[]): Expr => ({ kind: "prim", prim: p, args: args.map(lift) });

const x: Expr = { kind: "var", name: "x" };
const g: Expr = { kind: "var", name: "g" };
const p0: Expr = { kind: "var", name: "p0" };
const p1: Expr = { kind: "var", name: "p1" };
const [add, sub, mul, div, neg, abs, sign, floor, exp, log, sqrt, sin, cos, tanh, sigmoid, erf] = (
  [
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "abs",
    "sign",
    "floor",
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "erf",
  ] as const
).map(prim);
const [softplus, geluTanh, geluTanhGrad, pow, gt, ge, lt, le, eq, and] = (
  ["softplus", "geluTanh", "geluTanhGrad", "pow", "gt", "ge", "lt", "le", "eq", "and"] as const
).map(prim);
/** select(c, t, f): t where c holds, else f. */
const select = prim("select");

let nextLet = 0;
/** Binds value once (a local in every backend) and returns body(ref to it). */
function bind(value: Expr, body: (v: Expr) => Expr): Expr {
  const id = nextLet++;
  return { kind: "let", id, value, body: body({ kind: "ref", id }) };
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** One unary op: y = forward(x), and ∂L/∂x = grad(x, g) for an upstream gradient g (absent: none flows). */
export interface UnaryRow {
  forward: Expr;
  grad?: Expr;
}

/** The unary ops. `p0`, `p1` are the op's scalar parameters (affine scale/shift, clamp bounds, exponent). */
export const UNARY_OPS: Record<UnaryOp, UnaryRow> = {
  neg: { forward: neg(x), grad: neg(g) },
  abs: { forward: abs(x), grad: mul(g, sign(x)) },
  sign: { forward: sign(x), grad: lift(0) },
  floor: { forward: floor(x), grad: lift(0) },
  exp: { forward: exp(x), grad: mul(g, exp(x)) },
  log: { forward: log(x), grad: div(g, x) },
  sqrt: { forward: sqrt(x), grad: div(mul(0.5, g), sqrt(x)) },
  rsqrt: { forward: div(1, sqrt(x)), grad: div(mul(-0.5, g), mul(x, sqrt(x))) },
  square: { forward: mul(x, x), grad: mul(mul(g, x), 2) },
  reciprocal: { forward: div(1, x), grad: neg(div(g, mul(x, x))) },
  sin: { forward: sin(x), grad: mul(g, cos(x)) },
  cos: { forward: cos(x), grad: mul(neg(g), sin(x)) },
  tanh: { forward: tanh(x), grad: bind(tanh(x), (t) => mul(g, sub(1, mul(t, t)))) },
  sigmoid: { forward: sigmoid(x), grad: bind(sigmoid(x), (s) => mul(mul(g, s), sub(1, s))) },
  relu: { forward: select(gt(x, 0), x, 0), grad: select(gt(x, 0), g, 0) },
  gelu: {
    forward: mul(mul(0.5, x), add(1, erf(mul(x, SQRT1_2)))),
    grad: mul(
      g,
      add(mul(0.5, add(1, erf(mul(x, SQRT1_2)))), mul(mul(x, exp(mul(-0.5, mul(x, x)))), INV_SQRT_2PI)),
    ),
  },
  geluTanh: { forward: geluTanh(x), grad: mul(g, geluTanhGrad(x)) },
  silu: {
    forward: mul(x, sigmoid(x)),
    grad: bind(sigmoid(x), (s) => mul(mul(g, s), add(1, mul(x, sub(1, s))))),
  },
  softplus: { forward: softplus(x), grad: mul(g, sigmoid(x)) },
  logSigmoid: { forward: neg(softplus(neg(x))), grad: mul(g, sigmoid(neg(x))) },
  logicalNot: { forward: select(eq(x, 0), 1, 0) },
  affine: { forward: add(mul(x, p0), p1), grad: mul(g, p0) },
  clamp: {
    forward: select(lt(x, p0), p0, select(gt(x, p1), p1, x)),
    grad: select(and(ge(x, p0), le(x, p1)), g, 0),
  },
  powScalar: {
    forward: pow(x, p0),
    grad: select(eq(p0, 0), 0, mul(mul(g, p0), pow(x, sub(p0, 1)))),
  },
};

/** The unary ops that have a derivative, i.e. a `<op>Grad` kernel (x, g) → ∂L/∂x. */
export const DIFFERENTIABLE_UNARY: readonly UnaryOp[] = (Object.keys(UNARY_OPS) as UnaryOp[]).filter(
  (op) => UNARY_OPS[op].grad !== undefined,
);

/** Returns the largest let-binding id used in e plus one (how many locals a kernel declares). */
export function letCount(e: Expr): number {
  switch (e.kind) {
    case "let":
      return Math.max(e.id + 1, letCount(e.value), letCount(e.body));
    case "prim":
      return Math.max(0, ...e.args.map(letCount));
    default:
      return 0;
  }
}

/** Names a backend gives the variables. */
export type VarNames = Record<"x" | "g" | "p0" | "p1", string>;

const JS: Partial<Record<Prim, (a: string[]) => string>> = {
  add: ([a, b]) => `(${a} + ${b})`,
  sub: ([a, b]) => `(${a} - ${b})`,
  mul: ([a, b]) => `(${a} * ${b})`,
  div: ([a, b]) => `(${a} / ${b})`,
  neg: ([a]) => `(-${a})`,
  abs: ([a]) => `Math.abs(${a})`,
  sign: ([a]) => `Math.sign(${a})`,
  floor: ([a]) => `Math.floor(${a})`,
  exp: ([a]) => `Math.exp(${a})`,
  log: ([a]) => `Math.log(${a})`,
  sqrt: ([a]) => `Math.sqrt(${a})`,
  sin: ([a]) => `Math.sin(${a})`,
  cos: ([a]) => `Math.cos(${a})`,
  tanh: ([a]) => `Math.tanh(${a})`,
  sigmoid: ([a]) => `h.sigmoid(${a})`,
  erf: ([a]) => `h.erf(${a})`,
  softplus: ([a]) => `h.softplus(${a})`,
  geluTanh: ([a]) => `h.geluTanh(${a})`,
  geluTanhGrad: ([a]) => `h.geluTanhDerivative(${a})`,
  pow: ([a, b]) => `Math.pow(${a}, ${b})`,
  gt: ([a, b]) => `(${a} > ${b})`,
  ge: ([a, b]) => `(${a} >= ${b})`,
  lt: ([a, b]) => `(${a} < ${b})`,
  le: ([a, b]) => `(${a} <= ${b})`,
  eq: ([a, b]) => `(${a} === ${b})`,
  and: ([a, b]) => `(${a} && ${b})`,
  select: ([c, t, f]) => `(${c} ? ${t} : ${f})`,
};

/**
 * Returns e as a JavaScript expression (the helpers object in scope as `h`); let-bindings become
 * assignments to `t<id>`, which the kernel declares.
 */
export function toJs(e: Expr, names: VarNames): string {
  switch (e.kind) {
    case "var":
      return names[e.name];
    case "num":
      return String(e.value);
    case "ref":
      return `t${e.id}`;
    case "let":
      return `(t${e.id} = ${toJs(e.value, names)}, ${toJs(e.body, names)})`;
    case "prim":
      return JS[e.prim]!(e.args.map((a) => toJs(a, names)));
  }
}

const wgslNum = (v: number) => {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
};

const WGSL: Partial<Record<Prim, (a: string[]) => string>> = {
  ...JS,
  abs: ([a]) => `abs(${a})`,
  sign: ([a]) => `sign(${a})`,
  floor: ([a]) => `floor(${a})`,
  exp: ([a]) => `exp(${a})`,
  log: ([a]) => `log(${a})`,
  sqrt: ([a]) => `sqrt(${a})`,
  sin: ([a]) => `sin(${a})`,
  cos: ([a]) => `cos(${a})`,
  tanh: ([a]) => `tanh_(${a})`,
  sigmoid: ([a]) => `sigmoid_(${a})`,
  erf: ([a]) => `erf_(${a})`,
  softplus: ([a]) => `softplus_(${a})`,
  geluTanh: ([a]) => `gelu_tanh(${a})`,
  geluTanhGrad: ([a]) => `gelu_tanh_grad(${a})`,
  pow: ([a, b]) => `pow_(${a}, ${b})`,
  eq: ([a, b]) => `(${a} == ${b})`,
  select: ([c, t, f]) => `select(${f}, ${t}, ${c})`,
};

/** Returns e as WGSL: `lets` declares the bound values in order, `expr` is the result (all f32). */
export function toWgsl(e: Expr, names: VarNames): { lets: string; expr: string } {
  const lets: string[] = [];
  const walk = (n: Expr): string => {
    switch (n.kind) {
      case "var":
        return names[n.name];
      case "num":
        return wgslNum(n.value);
      case "ref":
        return `t${n.id}`;
      case "let":
        lets.push(`let t${n.id} = ${walk(n.value)};`);
        return walk(n.body);
      case "prim":
        return WGSL[n.prim]!(n.args.map(walk));
    }
  };
  const expr = walk(e);
  return { lets: lets.join(" "), expr };
}

/** f32x4 lowerings: each takes its operands' code (each leaving one v128) and leaves one v128. */
const WASM: Partial<Record<Prim, (a: string[]) => string>> = {
  add: ([a, b]) => `${a} ${b} f32x4.add`,
  sub: ([a, b]) => `${a} ${b} f32x4.sub`,
  mul: ([a, b]) => `${a} ${b} f32x4.mul`,
  div: ([a, b]) => `${a} ${b} f32x4.div`,
  neg: ([a]) => `${a} f32x4.neg`,
  abs: ([a]) => `${a} f32x4.abs`,
  floor: ([a]) => `${a} f32x4.floor`,
  sqrt: ([a]) => `${a} f32x4.sqrt`,
  exp: ([a]) => `${a} call $exp4`,
  // σ(x) = 1 / (1 + e^−x)
  sigmoid: ([a]) =>
    `f32.const 1 f32x4.splat f32.const 1 f32x4.splat ${a} f32x4.neg call $exp4 f32x4.add f32x4.div`,
  gt: ([a, b]) => `${a} ${b} f32x4.gt`,
  ge: ([a, b]) => `${a} ${b} f32x4.ge`,
  lt: ([a, b]) => `${a} ${b} f32x4.lt`,
  le: ([a, b]) => `${a} ${b} f32x4.le`,
  eq: ([a, b]) => `${a} ${b} f32x4.eq`,
  and: ([a, b]) => `${a} ${b} v128.and`,
  select: ([c, t, f]) => `${t} ${f} ${c} v128.bitselect`,
};

/**
 * Returns e as WebAssembly SIMD text leaving one v128 (let-bindings in v128 locals `$t<id>`), or null
 * when it uses a primitive WebAssembly has no kernel for.
 */
export function toWasm(e: Expr, names: VarNames): string | null {
  switch (e.kind) {
    case "var":
      return `local.get ${names[e.name]}`;
    case "num":
      return `f32.const ${e.value} f32x4.splat`;
    case "ref":
      return `local.get $t${e.id}`;
    case "let": {
      const v = toWasm(e.value, names);
      const b = toWasm(e.body, names);
      return v === null || b === null ? null : `${v} local.set $t${e.id} ${b}`;
    }
    case "prim": {
      const f = WASM[e.prim];
      const args = e.args.map((a) => toWasm(a, names));
      return f && args.every((a) => a !== null) ? f(args as string[]) : null;
    }
  }
}
