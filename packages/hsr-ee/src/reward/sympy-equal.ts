// MathRuler's last resort: `sympy.simplify((truth) - (given)) == 0`. Here the difference is parsed
// with the grammar sympy's parse_expr accepts for answer-sized expressions (numbers, + - * / ** ^,
// parentheses, implicit multiplication, sqrt, pi, one-letter symbols) and evaluated as a complex
// number at several random points: zero at every point stands for sympy's symbolic zero. Anything
// outside the grammar counts as sympy failing to parse, which MathRuler scores as not equal.
// A decimal literal makes sympy compute in binary floating point, where 0.1+0.2 is not 0.3 and
// 2**0.5 is not sqrt(2): then only an exact zero counts, as in sympy; otherwise a zero up to
// rounding (1e-12 relative) stands for sympy's exact symbolic zero.

interface Complex {
  re: number;
  im: number;
}
type Expr = (env: Map<string, Complex>) => Complex;

const c = (re: number, im = 0): Complex => ({ re, im });
const add = (a: Complex, b: Complex): Complex => c(a.re + b.re, a.im + b.im);
const sub = (a: Complex, b: Complex): Complex => c(a.re - b.re, a.im - b.im);
const mul = (a: Complex, b: Complex): Complex => c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
function div(a: Complex, b: Complex): Complex {
  const d = b.re * b.re + b.im * b.im;
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
}
function log(a: Complex): Complex {
  return c(Math.log(Math.hypot(a.re, a.im)), Math.atan2(a.im, a.re));
}
function exp(a: Complex): Complex {
  const m = Math.exp(a.re);
  return c(m * Math.cos(a.im), m * Math.sin(a.im));
}
function pow(a: Complex, b: Complex): Complex {
  if (b.im === 0 && Number.isInteger(b.re) && Math.abs(b.re) <= 64) {
    let out = c(1);
    for (let i = 0; i < Math.abs(b.re); i++) out = mul(out, a);
    return b.re < 0 ? div(c(1), out) : out;
  }
  if (a.re === 0 && a.im === 0) return c(0);
  return exp(mul(b, log(a)));
}
const sqrt = (a: Complex): Complex => pow(a, c(0.5));

// sympy's names of one or two letters that are not products of one-letter symbols.
const KEEP_WHOLE = new Set(["pi", "mu", "nu", "xi"]);
// Python keywords and sympy functions a lower-cased answer can spell with two letters.
const REFUSED = new Set(["if", "in", "is", "or", "as", "oo", "ln", "re", "im", "li", "ff", "rf"]);

type Token = { kind: "num" | "name" | "op"; text: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
    const name = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(rest);
    const op = /^(?:\*\*|[-+*/()])/.exec(rest);
    const m = num ?? name ?? op;
    if (m === null) throw new Error(`sympy: cannot parse ${JSON.stringify(rest[0])}`);
    tokens.push({ kind: num ? "num" : name ? "name" : "op", text: m[0] });
    i += m[0].length;
  }
  return tokens;
}

// split_symbols: an unknown name is the product of its letters; sqrt applies to what follows.
function splitNames(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (const t of tokens) {
    if (t.kind !== "name" || t.text === "sqrt" || KEEP_WHOLE.has(t.text)) out.push(t);
    else if (REFUSED.has(t.text) || /[\p{N}_]/u.test(t.text)) throw new Error(`sympy: name ${t.text}`);
    else for (const ch of t.text) out.push({ kind: "name", text: ch });
  }
  return out;
}

class Parser {
  i = 0;
  readonly symbols = new Set<string>();
  constructor(readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.i];
  }

  expect(text: string): void {
    if (this.peek()?.text !== text) throw new Error(`sympy: expected ${text}`);
    this.i++;
  }

  sum(): Expr {
    let left = this.product();
    for (let t = this.peek(); t?.text === "+" || t?.text === "-"; t = this.peek()) {
      this.i++;
      const l = left;
      const r = this.product();
      left = t.text === "+" ? (e) => add(l(e), r(e)) : (e) => sub(l(e), r(e));
    }
    return left;
  }

  product(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t?.text === "*" || t?.text === "/") {
        this.i++;
        const l = left;
        const r = this.unary();
        left = t.text === "*" ? (e) => mul(l(e), r(e)) : (e) => div(l(e), r(e));
      } else if (t !== undefined && (t.kind !== "op" || t.text === "(")) {
        // implicit multiplication: 2x, 2(x+1), (x+1)(x-1), x y
        const l = left;
        const r = this.power();
        left = (e) => mul(l(e), r(e));
      } else return left;
    }
  }

  unary(): Expr {
    const t = this.peek();
    if (t?.text === "-" || t?.text === "+") {
      this.i++;
      const inner = this.unary();
      return t.text === "-" ? (e) => mul(c(-1), inner(e)) : inner;
    }
    return this.power();
  }

  power(): Expr {
    const base = this.atom();
    if (this.peek()?.text !== "**") return base;
    this.i++;
    const exponent = this.unary();
    return (e) => pow(base(e), exponent(e));
  }

  atom(): Expr {
    const t = this.peek();
    if (t === undefined) throw new Error("sympy: unexpected end");
    this.i++;
    if (t.kind === "num") {
      const v = Number(t.text);
      return () => c(v);
    }
    if (t.text === "(") {
      const inner = this.sum();
      this.expect(")");
      return inner;
    }
    if (t.text === "sqrt") {
      // implicit_application: sqrt(x) and sqrt x alike
      const arg = this.peek()?.text === "(" ? this.atom() : this.power();
      return (e) => sqrt(arg(e));
    }
    if (t.text === "pi") return () => c(Math.PI);
    if (t.kind === "name") {
      this.symbols.add(t.text);
      return (e) => e.get(t.text) as Complex;
    }
    throw new Error(`sympy: unexpected ${t.text}`);
  }
}

// Fixed points, so that a grade never depends on a random draw.
const POINTS = [c(0.7312, 0.2391), c(-1.3724, 0.8117), c(2.2718, -1.1536), c(0.4123, -0.9341)];

/** True when the difference of the two normalised answers evaluates to zero (sympy's simplify == 0). */
export function equalUnderSympy(truth: string, given: string): boolean {
  try {
    const tokens = tokenize(`(${truth})-(${given})`.replaceAll("^", "**"));
    const floating = tokens.some((t) => t.kind === "num" && /[.eE]/.test(t.text));
    const parser = new Parser(splitNames(tokens));
    const diff = parser.sum();
    if (parser.i !== parser.tokens.length) return false;
    const scale = new Parser(splitNames(tokenize(`(${truth})`.replaceAll("^", "**")))).sum();
    const names = [...parser.symbols];
    const draws = names.length === 0 ? 1 : POINTS.length;
    for (let k = 0; k < draws; k++) {
      const env = new Map(names.map((n, j) => [n, POINTS[(k + j) % POINTS.length]]));
      const d = diff(env);
      const s = scale(env);
      const size = Math.max(1, Math.hypot(s.re, s.im));
      if (!(Math.hypot(d.re, d.im) <= (floating ? 0 : 1e-12 * size))) return false;
    }
    return true;
  } catch {
    return false;
  }
}
