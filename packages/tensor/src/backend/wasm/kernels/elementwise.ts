import type { BinaryOp, UnaryOp } from "../../backend.js";
import { DIFFERENTIABLE_UNARY, letCount, toWasm, UNARY_OPS } from "../../unary-ops.js";
import type { FuncSource } from "../assembler.js";

/**
 * Elementwise kernels as rows of expressions over v128 locals, each compiled into its own function
 * `unary_<op>` / `binary_<op>` so every loop stays branch-free. The unary rows and their `<op>Grad`
 * rows are generated from the shared table (../../unary-ops.ts) wherever its primitives have an f32x4
 * lowering; the rest run on the reference kernels. Threads claim chunks of elements (multiples of 4)
 * through an atomic counter. The right operand of a binary op may repeat with a period (a broadcast over
 * leading dims, a multiple of 4 elements), so bias adds and scalar operands need no materialized copy.
 */

const WASM_UNARY = { x: "$x", g: "$g", p0: "$p0", p1: "$p1" };
const WASM_GRAD = { x: "$a", g: "$b", p0: "$p0", p1: "$p1" };

/** Unary rows: an expression leaving f(x) for the v128 local $x ($p0, $p1: splatted parameters). */
export const UNARY_F32X4: Partial<Record<UnaryOp, string>> = Object.fromEntries(
  (Object.keys(UNARY_OPS) as UnaryOp[])
    // logicalNot writes bool, which these f32 kernels do not
    .filter((op) => op !== "logicalNot")
    .map((op) => [op, toWasm(UNARY_OPS[op].forward, WASM_UNARY)])
    .filter(([, code]) => code !== null),
);

/** Binary rows over v128 locals $a, $b (the `<op>Grad` rows read a = x, b = dy). */
export const BINARY_F32X4: Partial<Record<BinaryOp, string>> = {
  add: "local.get $a local.get $b f32x4.add",
  sub: "local.get $a local.get $b f32x4.sub",
  mul: "local.get $a local.get $b f32x4.mul",
  div: "local.get $a local.get $b f32x4.div",
  ...Object.fromEntries(
    DIFFERENTIABLE_UNARY.map((op) => [`${op}Grad`, toWasm(UNARY_OPS[op].grad!, WASM_GRAD)]).filter(
      ([, code]) => code !== null,
    ),
  ),
};

/** v128 locals for the let-bindings of the table's expressions. */
const LET_LOCALS: [string, "v128"][] = Array.from(
  {
    length: Math.max(
      ...Object.values(UNARY_OPS).map((r) => Math.max(letCount(r.forward), r.grad ? letCount(r.grad) : 0)),
    ),
  },
  (_, i) => [`$t${i}`, "v128"],
);

/** Binary ops where swapping the operands gives the same result (a repeating left operand goes right). */
export const COMMUTATIVE: ReadonlySet<BinaryOp> = new Set(["add", "mul"]);

const claim = `
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $i
        local.get $n i32.ge_u if return end
        local.get $i local.get $chunk i32.add local.tee $end local.get $n local.get $end local.get $n i32.lt_u select local.set $end`;

function unaryFunc(op: string, expr: string): FuncSource {
  return {
    name: `unary_${op}`,
    params: [
      ["$xp", "i32"],
      ["$out", "i32"],
      ["$n", "i32"],
      ["$q0", "f32"],
      ["$q1", "f32"],
      ["$counter", "i32"],
      ["$chunk", "i32"],
    ],
    locals: [
      ["$i", "i32"],
      ["$end", "i32"],
      ["$x", "v128"],
      ["$p0", "v128"],
      ["$p1", "v128"],
      ["$y", "v128"],
      ...LET_LOCALS,
    ],
    body: `
      local.get $q0 f32x4.splat local.set $p0
      local.get $q1 f32x4.splat local.set $p1
      loop $claim
        ${claim}
        block $vd loop $vl
          local.get $i i32.const 4 i32.add local.get $end i32.gt_u br_if $vd
          local.get $xp local.get $i i32.const 2 i32.shl i32.add v128.load local.set $x
          ${expr} local.set $y
          local.get $out local.get $i i32.const 2 i32.shl i32.add local.get $y v128.store
          local.get $i i32.const 4 i32.add local.set $i br $vl
        end end
        block $sd loop $sl
          local.get $i local.get $end i32.ge_u br_if $sd
          local.get $xp local.get $i i32.const 2 i32.shl i32.add v128.load32_splat local.set $x
          ${expr} local.set $y
          local.get $out local.get $i i32.const 2 i32.shl i32.add local.get $y f32x4.extract_lane 0 f32.store
          local.get $i i32.const 1 i32.add local.set $i br $sl
        end end
        br $claim
      end`,
  };
}

/**
 * binary_<op>(a, b, out, n, period, p0, p1, counter, chunk): out[i] = op(a[i], b[j]) with j = i when
 * period is 0, else j = i mod period (period a multiple of 4, chunk a multiple of period or of 4).
 */
function binaryFunc(op: string, expr: string): FuncSource {
  return {
    name: `binary_${op}`,
    params: [
      ["$ap", "i32"],
      ["$bp", "i32"],
      ["$out", "i32"],
      ["$n", "i32"],
      ["$period", "i32"],
      ["$q0", "f32"],
      ["$q1", "f32"],
      ["$counter", "i32"],
      ["$chunk", "i32"],
    ],
    locals: [
      ["$i", "i32"],
      ["$end", "i32"],
      ["$j", "i32"],
      ["$a", "v128"],
      ["$b", "v128"],
      ["$p0", "v128"],
      ["$p1", "v128"],
      ["$y", "v128"],
      ...LET_LOCALS,
    ],
    body: `
      local.get $q0 f32x4.splat local.set $p0
      local.get $q1 f32x4.splat local.set $p1
      loop $claim
        ${claim}
        local.get $i local.set $j
        local.get $period if local.get $i local.get $period i32.rem_u local.set $j end
        block $vd loop $vl
          local.get $i i32.const 4 i32.add local.get $end i32.gt_u br_if $vd
          local.get $ap local.get $i i32.const 2 i32.shl i32.add v128.load local.set $a
          local.get $bp local.get $j i32.const 2 i32.shl i32.add v128.load local.set $b
          ${expr} local.set $y
          local.get $out local.get $i i32.const 2 i32.shl i32.add local.get $y v128.store
          local.get $i i32.const 4 i32.add local.set $i
          local.get $j i32.const 4 i32.add local.tee $j local.get $period i32.eq if i32.const 0 local.set $j end
          br $vl
        end end
        block $sd loop $sl
          local.get $i local.get $end i32.ge_u br_if $sd
          local.get $ap local.get $i i32.const 2 i32.shl i32.add v128.load32_splat local.set $a
          local.get $bp local.get $j i32.const 2 i32.shl i32.add v128.load32_splat local.set $b
          ${expr} local.set $y
          local.get $out local.get $i i32.const 2 i32.shl i32.add local.get $y f32x4.extract_lane 0 f32.store
          local.get $i i32.const 1 i32.add local.set $i
          local.get $j i32.const 1 i32.add local.tee $j local.get $period i32.eq if i32.const 0 local.set $j end
          br $sl
        end end
        br $claim
      end`,
  };
}

/**
 * binaryRows_<op>(a, b, out, rows, L, d1, d2, sa0, sa1, sa2, sb0, sb1, sb2, sbl, counter, chunk): the
 * strided form. Row r = (i0·d1 + i1)·d2 + i2 of the contiguous output [rows, L] reads a at
 * i0·sa0 + i1·sa1 + i2·sa2 (elements, contiguous along L) and b likewise with stride sbl (1, or 0 for a
 * value repeated along the row): views such as the two halves of a rotary split need no copy.
 */
function binaryRowsFunc(op: string, expr: string): FuncSource {
  const i32 = (n: string): [string, "i32"] => [n, "i32"];
  return {
    name: `binaryRows_${op}`,
    params: [
      "$ap",
      "$bp",
      "$out",
      "$rows",
      "$L",
      "$d1",
      "$d2",
      "$sa0",
      "$sa1",
      "$sa2",
      "$sb0",
      "$sb1",
      "$sb2",
      "$sbl",
      "$counter",
      "$chunk",
    ].map(i32),
    locals: [
      ...["$r", "$rEnd", "$j", "$i0", "$i1", "$i2", "$pa", "$pb", "$po", "$t"].map(i32),
      ["$a", "v128"],
      ["$b", "v128"],
      ["$p0", "v128"],
      ["$p1", "v128"],
      ["$y", "v128"],
      ...LET_LOCALS,
    ],
    body: `
      loop $claim
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $r
        local.get $rows i32.ge_s if return end
        local.get $r local.get $chunk i32.add local.tee $rEnd local.get $rows local.get $rEnd local.get $rows i32.lt_s select local.set $rEnd
        loop $row
          local.get $r local.get $d2 i32.div_u local.tee $t local.get $d1 i32.div_u local.set $i0
          local.get $t local.get $i0 local.get $d1 i32.mul i32.sub local.set $i1
          local.get $r local.get $t local.get $d2 i32.mul i32.sub local.set $i2
          local.get $ap local.get $i0 local.get $sa0 i32.mul local.get $i1 local.get $sa1 i32.mul i32.add
          local.get $i2 local.get $sa2 i32.mul i32.add i32.const 2 i32.shl i32.add local.set $pa
          local.get $bp local.get $i0 local.get $sb0 i32.mul local.get $i1 local.get $sb1 i32.mul i32.add
          local.get $i2 local.get $sb2 i32.mul i32.add i32.const 2 i32.shl i32.add local.set $pb
          local.get $out local.get $r local.get $L i32.mul i32.const 2 i32.shl i32.add local.set $po
          local.get $pb v128.load32_splat local.set $b
          i32.const 0 local.set $j
          block $vd loop $vl
            local.get $j i32.const 4 i32.add local.get $L i32.gt_s br_if $vd
            local.get $pa local.get $j i32.const 2 i32.shl i32.add v128.load local.set $a
            local.get $sbl if local.get $pb local.get $j i32.const 2 i32.shl i32.add v128.load local.set $b end
            ${expr} local.set $y
            local.get $po local.get $j i32.const 2 i32.shl i32.add local.get $y v128.store
            local.get $j i32.const 4 i32.add local.set $j br $vl
          end end
          block $sd loop $sl
            local.get $j local.get $L i32.ge_s br_if $sd
            local.get $pa local.get $j i32.const 2 i32.shl i32.add v128.load32_splat local.set $a
            local.get $sbl if local.get $pb local.get $j i32.const 2 i32.shl i32.add v128.load32_splat local.set $b end
            ${expr} local.set $y
            local.get $po local.get $j i32.const 2 i32.shl i32.add local.get $y f32x4.extract_lane 0 f32.store
            local.get $j i32.const 1 i32.add local.set $j br $sl
          end end
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * copyRows(src, dst, rows, L, d1, d2, ss0, ss1, ss2, ds0, ds1, ds2, counter, chunk): row r = (i0·d1 +
 * i1)·d2 + i2 of L contiguous floats is copied from src + Σ i·ss to dst + Σ i·ds (strides in elements):
 * contiguous(), cat and the head split/merge of attention as one strided copy.
 */
function copyRows(): FuncSource {
  const i32 = (n: string): [string, "i32"] => [n, "i32"];
  return {
    name: "copyRows",
    params: [
      "$src",
      "$dst",
      "$rows",
      "$L",
      "$d1",
      "$d2",
      "$ss0",
      "$ss1",
      "$ss2",
      "$ds0",
      "$ds1",
      "$ds2",
      "$counter",
      "$chunk",
    ].map(i32),
    locals: ["$r", "$rEnd", "$j", "$i0", "$i1", "$i2", "$ps", "$pd", "$t"].map(i32),
    body: `
      loop $claim
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $r
        local.get $rows i32.ge_s if return end
        local.get $r local.get $chunk i32.add local.tee $rEnd local.get $rows local.get $rEnd local.get $rows i32.lt_s select local.set $rEnd
        loop $row
          local.get $r local.get $d2 i32.div_u local.tee $t local.get $d1 i32.div_u local.set $i0
          local.get $t local.get $i0 local.get $d1 i32.mul i32.sub local.set $i1
          local.get $r local.get $t local.get $d2 i32.mul i32.sub local.set $i2
          local.get $src local.get $i0 local.get $ss0 i32.mul local.get $i1 local.get $ss1 i32.mul i32.add
          local.get $i2 local.get $ss2 i32.mul i32.add i32.const 2 i32.shl i32.add local.set $ps
          local.get $dst local.get $i0 local.get $ds0 i32.mul local.get $i1 local.get $ds1 i32.mul i32.add
          local.get $i2 local.get $ds2 i32.mul i32.add i32.const 2 i32.shl i32.add local.set $pd
          i32.const 0 local.set $j
          block $vd loop $vl
            local.get $j i32.const 4 i32.add local.get $L i32.gt_s br_if $vd
            local.get $pd local.get $j i32.const 2 i32.shl i32.add
            local.get $ps local.get $j i32.const 2 i32.shl i32.add v128.load v128.store
            local.get $j i32.const 4 i32.add local.set $j br $vl
          end end
          block $sd loop $sl
            local.get $j local.get $L i32.ge_s br_if $sd
            local.get $pd local.get $j i32.const 2 i32.shl i32.add
            local.get $ps local.get $j i32.const 2 i32.shl i32.add f32.load f32.store
            local.get $j i32.const 1 i32.add local.set $j br $sl
          end end
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/** Returns every elementwise kernel (needs `$exp4` from the row kernels). */
export function elementwiseFuncs(): FuncSource[] {
  return [
    ...Object.entries(UNARY_F32X4).map(([op, e]) => unaryFunc(op, e as string)),
    ...Object.entries(BINARY_F32X4).map(([op, e]) => binaryFunc(op, e as string)),
    ...Object.entries(BINARY_F32X4).map(([op, e]) => binaryRowsFunc(op, e as string)),
    copyRows(),
  ];
}

/** Export names of the elementwise kernels (the pool resolves them). */
export const ELEMENTWISE_KERNELS: string[] = [
  ...Object.keys(UNARY_F32X4).map((op) => `unary_${op}`),
  ...Object.keys(BINARY_F32X4).map((op) => `binary_${op}`),
  ...Object.keys(BINARY_F32X4).map((op) => `binaryRows_${op}`),
  "copyRows",
];
