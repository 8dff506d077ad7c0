// The part of pylatexenc 2.10's `LatexNodes2Text().latex_to_text` that MathRuler's `_parse_latex`
// meets in answers: fractions, roots, text wrappers, groups, spacing and the common math symbols.
// Macros outside these tables render as pylatexenc renders an unknown macro: as nothing.

const SYMBOLS: Record<string, string> = {
  pi: "π",
  infty: "∞",
  cdot: "·",
  times: "×",
  div: "÷",
  circ: "∘",
  pm: "±",
  mp: "∓",
  cup: "∪",
  cap: "∩",
  le: "≤",
  leq: "≤",
  ge: "≥",
  geq: "≥",
  neq: "≠",
  approx: "≈",
  sim: "∼",
  equiv: "≡",
  in: "∈",
  notin: "∉",
  subset: "⊂",
  subseteq: "⊆",
  supset: "⊃",
  emptyset: "∅",
  varnothing: "∅",
  angle: "∠",
  perp: "⊥",
  parallel: "∥",
  to: "→",
  rightarrow: "→",
  leftarrow: "←",
  Rightarrow: "⇒",
  Leftrightarrow: "⇔",
  ldots: "…",
  dots: "…",
  cdots: "⋯",
  mid: "|",
  vert: "|",
  lvert: "|",
  rvert: "|",
  prime: "'",
  textdegree: "°",
  ast: "∗",
  partial: "∂",
  nabla: "∇",
  forall: "∀",
  exists: "∃",
  alpha: "α",
  beta: "β",
  gamma: "γ",
  delta: "δ",
  epsilon: "ϵ",
  varepsilon: "ε",
  zeta: "ζ",
  eta: "η",
  theta: "θ",
  iota: "ι",
  kappa: "κ",
  lambda: "λ",
  mu: "μ",
  nu: "ν",
  xi: "ξ",
  rho: "ρ",
  sigma: "σ",
  tau: "τ",
  phi: "ϕ",
  varphi: "φ",
  chi: "χ",
  psi: "ψ",
  omega: "ω",
  Gamma: "Γ",
  Delta: "Δ",
  Theta: "Θ",
  Lambda: "Λ",
  Pi: "Π",
  Sigma: "Σ",
  Phi: "Φ",
  Omega: "Ω",
  sin: "sin",
  cos: "cos",
  tan: "tan",
  cot: "cot",
  sec: "sec",
  csc: "csc",
  log: "log",
  ln: "ln",
  exp: "exp",
  lim: "lim",
  max: "max",
  min: "min",
  gcd: "gcd",
  quad: "  ",
  qquad: "    ",
  backslash: "\\",
};
// One-character macros: `\,` and friends are spaces, `\!` nothing, `\{` a brace, `\\` a line break.
const ONE_CHAR: Record<string, string> = {
  ",": " ",
  ";": " ",
  ":": " ",
  " ": " ",
  "!": "",
  "{": "{",
  "}": "}",
  $: "$",
  "%": "%",
  "&": "&",
  "#": "#",
  _: "_",
  "\\": "\n",
};
// Macros whose one argument is rendered as it stands (pylatexenc: discard=False or "%s").
const KEEP_ARG = new Set([
  "emph",
  "textrm",
  "textit",
  "textbf",
  "textsc",
  "textsl",
  "text",
  "mathrm",
  "overline",
  "underline",
  "widehat",
  "widetilde",
  "overrightarrow",
  "overleftarrow",
  "underbrace",
  "overbrace",
]);
// Macros that take one argument and render as nothing, argument and all.
const DROP_ARG = new Set([
  "mbox",
  "textmd",
  "textsf",
  "texttt",
  "textup",
  "ensuremath",
  "hphantom",
  "vphantom",
  "label",
  "hspace",
]);

class Reader {
  pos = 0;
  constructor(readonly src: string) {}

  done(): boolean {
    return this.pos >= this.src.length;
  }

  skipSpace(): void {
    while (!this.done() && /[ \t\n]/.test(this.src[this.pos])) this.pos++;
  }

  // One macro argument: a {group} or a single token (a character or a macro).
  arg(): string | null {
    this.skipSpace();
    if (this.done() || this.src[this.pos] === "}") return null;
    if (this.src[this.pos] === "{") {
      this.pos++;
      return this.nodes(true);
    }
    return this.node();
  }

  optionalArg(): void {
    this.skipSpace();
    if (this.src[this.pos] !== "[") return;
    const close = this.src.indexOf("]", this.pos);
    this.pos = close < 0 ? this.src.length : close + 1;
  }

  // Text up to the closing brace of a group (consumed) or the end.
  nodes(inGroup: boolean): string {
    let out = "";
    while (!this.done()) {
      const c = this.src[this.pos];
      if (c === "}") {
        this.pos++;
        if (inGroup) return out;
        continue;
      }
      out += this.node();
    }
    return out;
  }

  node(): string {
    const c = this.src[this.pos];
    if (c === "{") {
      this.pos++;
      return this.nodes(true);
    }
    if (c === "&") {
      this.pos++;
      return "   ";
    }
    if (c === "~") {
      this.pos++;
      return "\u00a0";
    }
    if (c !== "\\") {
      const cp = this.src.codePointAt(this.pos) as number;
      const ch = String.fromCodePoint(cp);
      this.pos += ch.length;
      return ch;
    }
    return this.macro();
  }

  macro(): string {
    this.pos++;
    const name = /^[a-zA-Z]+/.exec(this.src.slice(this.pos))?.[0];
    if (name === undefined) {
      const ch = this.src[this.pos] ?? "";
      this.pos += ch.length;
      return ONE_CHAR[ch] ?? "";
    }
    this.pos += name.length;
    this.skipSpace();
    if (name === "frac" || name === "nicefrac" || name === "textfrac") {
      const a = this.arg();
      const b = a === null ? null : this.arg();
      // pylatexenc prints its template when an argument is missing, then what it did parse.
      if (a === null || b === null) return `%s/%s${a ?? ""}`;
      return `${a}/${b}`;
    }
    if (name === "sqrt") {
      this.optionalArg();
      const a = this.arg();
      if (a === null) throw new Error("latexToText: \\sqrt without an argument");
      return `√(${a})`;
    }
    if (KEEP_ARG.has(name)) return this.arg() ?? "";
    if (DROP_ARG.has(name)) {
      this.arg();
      return "";
    }
    return SYMBOLS[name] ?? "";
  }
}

/** Plain text of a LaTeX fragment, as pylatexenc's latex_to_text gives it for answer-sized input. */
export function latexToText(latex: string): string {
  return new Reader(latex).nodes(false);
}
