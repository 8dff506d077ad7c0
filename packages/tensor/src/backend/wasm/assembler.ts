/**
 * A small WebAssembly assembler: functions written in the flat (stack) text format are encoded to a
 * binary module at load time, so the fast CPU kernels ship as TypeScript sources, need nothing compiled
 * at install time, and run wherever WebAssembly SIMD does (Node, browsers).
 *
 * Supported: one imported shared memory, functions with named params and locals, the scalar i32/f32/f64
 * ops, the SIMD ops the kernels use, structured control flow with named labels (`block $l`, `loop $l`,
 * `if`/`else`/`end`, `br $l`, `br_if $l`, a block result as `if (result f32)`), `call $f`, and memory
 * arguments `offset=N`.
 */

/** Value types of the text format. */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

/** One function in the flat text format. */
export interface FuncSource {
  name: string;
  params: [string, ValType][];
  results?: ValType[];
  locals?: [string, ValType][];
  /** Flat instructions, whitespace separated; `;;` starts a comment. */
  body: string;
  /** Export under the function's name (default true). */
  export?: boolean;
}

/** A module: functions plus the imported memory `env.memory` (pages of 64 KiB). */
export interface ModuleSource {
  memory: { initial: number; maximum: number; shared: boolean };
  funcs: FuncSource[];
}

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

type Imm = "none" | "local" | "mem" | "i32" | "f32" | "f64" | "lane" | "block" | "br" | "call";

interface OpInfo {
  code: number[];
  imm: Imm;
  /** log2 of the natural alignment, for memory ops. */
  align?: number;
}

const OPS = new Map<string, OpInfo>();

function plain(code: number, names: string): void {
  let c = code;
  for (const n of names.trim().split(/\s+/)) OPS.set(n, { code: [c++], imm: "none" });
}
function simd(code: number, name: string, imm: Imm = "none", align?: number): void {
  OPS.set(name, { code: [0xfd, ...uleb(code)], imm, align });
}
function mem(code: number, name: string, align: number): void {
  OPS.set(name, { code: [code], imm: "mem", align });
}

// control
OPS.set("unreachable", { code: [0x00], imm: "none" });
OPS.set("nop", { code: [0x01], imm: "none" });
OPS.set("block", { code: [0x02], imm: "block" });
OPS.set("loop", { code: [0x03], imm: "block" });
OPS.set("if", { code: [0x04], imm: "block" });
OPS.set("else", { code: [0x05], imm: "none" });
OPS.set("end", { code: [0x0b], imm: "none" });
OPS.set("br", { code: [0x0c], imm: "br" });
OPS.set("br_if", { code: [0x0d], imm: "br" });
OPS.set("return", { code: [0x0f], imm: "none" });
OPS.set("call", { code: [0x10], imm: "call" });
OPS.set("drop", { code: [0x1a], imm: "none" });
OPS.set("select", { code: [0x1b], imm: "none" });
OPS.set("local.get", { code: [0x20], imm: "local" });
OPS.set("local.set", { code: [0x21], imm: "local" });
OPS.set("local.tee", { code: [0x22], imm: "local" });
// memory
mem(0x28, "i32.load", 2);
mem(0x2a, "f32.load", 2);
mem(0x2b, "f64.load", 3);
mem(0x2d, "i32.load8_u", 0);
mem(0x36, "i32.store", 2);
mem(0x38, "f32.store", 2);
mem(0x39, "f64.store", 3);
mem(0x3a, "i32.store8", 0);
// constants
OPS.set("i32.const", { code: [0x41], imm: "i32" });
OPS.set("f32.const", { code: [0x43], imm: "f32" });
OPS.set("f64.const", { code: [0x44], imm: "f64" });
// scalar arithmetic
plain(0x45, "i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u i32.ge_s i32.ge_u");
plain(0x5b, "f32.eq f32.ne f32.lt f32.gt f32.le f32.ge f64.eq f64.ne f64.lt f64.gt f64.le f64.ge");
plain(0x67, "i32.clz i32.ctz i32.popcnt i32.add i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u");
plain(0x71, "i32.and i32.or i32.xor i32.shl i32.shr_s i32.shr_u");
plain(
  0x8b,
  "f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt f32.add f32.sub f32.mul f32.div",
);
plain(0x96, "f32.min f32.max f32.copysign");
plain(
  0x99,
  "f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt f64.add f64.sub f64.mul f64.div",
);
plain(0xa4, "f64.min f64.max");
plain(0xa8, "i32.trunc_f32_s");
plain(0xaa, "i32.trunc_f64_s");
plain(0xb2, "f32.convert_i32_s f32.convert_i32_u");
plain(0xb6, "f32.demote_f64 f64.convert_i32_s f64.convert_i32_u");
plain(0xbb, "f64.promote_f32 i32.reinterpret_f32");
plain(0xbe, "f32.reinterpret_i32");
// threads: atomic read-modify-write (prefix 0xfe)
OPS.set("i32.atomic.load", { code: [0xfe, 0x10], imm: "mem", align: 2 });
OPS.set("i32.atomic.store", { code: [0xfe, 0x17], imm: "mem", align: 2 });
OPS.set("i32.atomic.rmw.add", { code: [0xfe, 0x1e], imm: "mem", align: 2 });
// SIMD
simd(0x00, "v128.load", "mem", 4);
simd(0x09, "v128.load32_splat", "mem", 2);
simd(0x0b, "v128.store", "mem", 4);
simd(0x11, "i32x4.splat");
simd(0x13, "f32x4.splat");
simd(0x1b, "i32x4.extract_lane", "lane");
simd(0x1f, "f32x4.extract_lane", "lane");
simd(0x20, "f32x4.replace_lane", "lane");
simd(0x41, "f32x4.eq");
simd(0x42, "f32x4.ne");
simd(0x43, "f32x4.lt");
simd(0x44, "f32x4.gt");
simd(0x45, "f32x4.le");
simd(0x46, "f32x4.ge");
simd(0x4d, "v128.not");
simd(0x4e, "v128.and");
simd(0x4f, "v128.andnot");
simd(0x50, "v128.or");
simd(0x51, "v128.xor");
simd(0x52, "v128.bitselect");
simd(0x68, "f32x4.floor");
simd(0x6a, "f32x4.nearest");
simd(0xab, "i32x4.shl");
simd(0xac, "i32x4.shr_s");
simd(0xae, "i32x4.add");
simd(0xb1, "i32x4.sub");
simd(0xe0, "f32x4.abs");
simd(0xe1, "f32x4.neg");
simd(0xe3, "f32x4.sqrt");
simd(0xe4, "f32x4.add");
simd(0xe5, "f32x4.sub");
simd(0xe6, "f32x4.mul");
simd(0xe7, "f32x4.div");
simd(0xe8, "f32x4.min");
simd(0xe9, "f32x4.max");
simd(0xf8, "i32x4.trunc_sat_f32x4_s");
simd(0xfa, "f32x4.convert_i32x4_s");
simd(0x105, "f32x4.relaxed_madd");

/** Returns the unsigned LEB128 encoding of n. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function str(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vec(items: number[][]): number[] {
  const out = uleb(items.length);
  for (const it of items) out.push(...it);
  return out;
}

function tokenize(body: string): string[] {
  return body
    .split("\n")
    .map((line) => {
      const c = line.indexOf(";;");
      return c >= 0 ? line.slice(0, c) : line;
    })
    .join(" ")
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

function parseNumber(tok: string, where: string): number {
  const v = Number(tok.replace(/_/g, ""));
  if (Number.isNaN(v)) throw new Error(`${where}: "${tok}" is not a number`);
  return v;
}

function encodeBody(fn: FuncSource, funcIndex: Map<string, number>): number[] {
  const localIndex = new Map<string, number>();
  for (const [name] of fn.params) localIndex.set(name, localIndex.size);
  for (const [name] of fn.locals ?? []) {
    if (localIndex.has(name)) throw new Error(`assembler: ${fn.name}: local ${name} declared twice`);
    localIndex.set(name, localIndex.size);
  }
  const code: number[] = [];
  // Locals, grouped in runs of one type.
  const groups: number[][] = [];
  let prev: ValType | null = null;
  let count = 0;
  for (const [, t] of fn.locals ?? []) {
    if (t === prev) count++;
    else {
      if (prev) groups.push([...uleb(count), VALTYPE[prev]]);
      prev = t;
      count = 1;
    }
  }
  if (prev) groups.push([...uleb(count), VALTYPE[prev]]);
  code.push(...vec(groups));

  const labels: (string | null)[] = [];
  const toks = tokenize(fn.body);
  for (let i = 0; i < toks.length; i++) {
    const name = toks[i];
    const where = `assembler: ${fn.name}: token ${i} "${name}"`;
    const op = OPS.get(name);
    if (!op) throw new Error(`${where}: unknown instruction`);
    code.push(...op.code);
    switch (op.imm) {
      case "none":
        if (name === "end") {
          if (labels.length === 0) throw new Error(`${where}: end without a block`);
          labels.pop();
        }
        break;
      case "local": {
        const t = toks[++i];
        const idx = t?.startsWith("$") ? localIndex.get(t) : Number(t);
        if (idx === undefined || !Number.isInteger(idx)) throw new Error(`${where}: unknown local ${t}`);
        code.push(...uleb(idx));
        break;
      }
      case "mem": {
        let offset = 0;
        while (toks[i + 1]?.startsWith("offset=") || toks[i + 1]?.startsWith("align=")) {
          const t = toks[++i];
          if (t.startsWith("offset=")) offset = parseNumber(t.slice(7), where);
        }
        code.push(...uleb(op.align ?? 0), ...uleb(offset));
        break;
      }
      case "i32":
        code.push(...sleb(parseNumber(toks[++i], where)));
        break;
      case "f32": {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setFloat32(0, parseNumber(toks[++i], where), true);
        code.push(...b);
        break;
      }
      case "f64": {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, parseNumber(toks[++i], where), true);
        code.push(...b);
        break;
      }
      case "lane":
        code.push(parseNumber(toks[++i], where));
        break;
      case "block": {
        let label: string | null = null;
        if (toks[i + 1]?.startsWith("$")) label = toks[++i];
        labels.push(label);
        if (toks[i + 1] === "(result") {
          const t = toks[i + 2]?.replace(/\)$/, "") as ValType;
          if (!(t in VALTYPE)) throw new Error(`${where}: bad block result type ${toks[i + 2]}`);
          code.push(VALTYPE[t]);
          i += 2;
        } else code.push(0x40);
        break;
      }
      case "br": {
        const t = toks[++i];
        let depth: number;
        if (t.startsWith("$")) {
          const at = labels.lastIndexOf(t);
          if (at < 0) throw new Error(`${where}: unknown label ${t}`);
          depth = labels.length - 1 - at;
        } else depth = parseNumber(t, where);
        code.push(...uleb(depth));
        break;
      }
      case "call": {
        const t = toks[++i];
        const idx = funcIndex.get(t.replace(/^\$/, ""));
        if (idx === undefined) throw new Error(`${where}: unknown function ${t}`);
        code.push(...uleb(idx));
        break;
      }
    }
  }
  if (labels.length !== 0) throw new Error(`assembler: ${fn.name}: ${labels.length} block(s) left open`);
  code.push(0x0b);
  return [...uleb(code.length), ...code];
}

/** Returns the binary encoding of a module (imports `env.memory`, exports every exported function). */
export function assemble(mod: ModuleSource): Uint8Array<ArrayBuffer> {
  const types: string[] = [];
  const typeBytes: number[][] = [];
  const funcTypes: number[] = [];
  const funcIndex = new Map<string, number>();
  mod.funcs.forEach((f, i) => {
    if (funcIndex.has(f.name)) throw new Error(`assembler: function ${f.name} defined twice`);
    funcIndex.set(f.name, i);
    const sig = [
      0x60,
      ...vec(f.params.map(([, t]) => [VALTYPE[t]])),
      ...vec((f.results ?? []).map((t) => [VALTYPE[t]])),
    ];
    const key = sig.join(",");
    let ti = types.indexOf(key);
    if (ti < 0) {
      ti = types.length;
      types.push(key);
      typeBytes.push(sig);
    }
    funcTypes.push(ti);
  });
  const { initial, maximum, shared } = mod.memory;
  const memImport = [
    ...str("env"),
    ...str("memory"),
    0x02,
    shared ? 0x03 : 0x01,
    ...uleb(initial),
    ...uleb(maximum),
  ];
  const exports = mod.funcs
    .map((f, i) => (f.export === false ? null : [...str(f.name), 0x00, ...uleb(i)]))
    .filter((e): e is number[] => e !== null);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(typeBytes)),
    ...section(2, vec([memImport])),
    ...section(3, vec(funcTypes.map((t) => uleb(t)))),
    ...section(7, vec(exports)),
    ...section(10, vec(mod.funcs.map((f) => encodeBody(f, funcIndex)))),
  ];
  return new Uint8Array(bytes);
}
