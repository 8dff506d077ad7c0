import type { FuncSource } from "../assembler.js";

/**
 * Row kernels: softmax and log-softmax over the last axis, the masked and scaled softmax of attention
 * scores, and the attention score gradient. Each claims `chunk` rows at a time through an atomic counter,
 * so every thread of the pool can run the same call. exp is a vectorized Cephes-style polynomial
 * (relative error about 2e-7), log a scalar series evaluated in f64 (once per row).
 */

/** Returns the row kernels and their exp/log helpers. */
export function rowFuncs(): FuncSource[] {
  return [exp4(), ln(), softmaxRows(), attnSoftmax(), attnGradScores(), attnRowDot()];
}

function exp4(): FuncSource {
  const coef = [
    1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
  ];
  const splat = (c: number) => `f32.const ${c} f32x4.splat`;
  return {
    name: "exp4",
    export: false,
    params: [["$x", "v128"]],
    results: ["v128"],
    locals: [
      ["$n", "v128"],
      ["$r", "v128"],
      ["$p", "v128"],
    ],
    body: `
      local.get $x ${splat(88)} f32x4.min ${splat(-87.33654475)} f32x4.max local.set $x
      local.get $x ${splat(Math.LOG2E)} f32x4.mul f32x4.nearest local.set $n
      local.get $x local.get $n ${splat(0.693359375)} f32x4.mul f32x4.sub
      local.get $n ${splat(-2.1219444e-4)} f32x4.mul f32x4.sub local.set $r
      ${splat(coef[0])} local.set $p
      ${coef
        .slice(1)
        .map((c) => `local.get $p local.get $r f32x4.mul ${splat(c)} f32x4.add local.set $p`)
        .join("\n      ")}
      local.get $p local.get $r f32x4.mul local.get $r f32x4.mul local.get $r f32x4.add ${splat(1)} f32x4.add
      local.get $n i32x4.trunc_sat_f32x4_s i32.const 127 i32x4.splat i32x4.add i32.const 23 i32x4.shl
      f32x4.mul`,
  };
}

function ln(): FuncSource {
  const inv = [1 / 13, 1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3];
  return {
    name: "ln",
    export: false,
    params: [["$x", "f32"]],
    results: ["f32"],
    locals: [
      ["$bits", "i32"],
      ["$e", "i32"],
      ["$m", "f64"],
      ["$s", "f64"],
      ["$s2", "f64"],
      ["$t", "f64"],
    ],
    body: `
      local.get $x i32.reinterpret_f32 local.tee $bits i32.const 23 i32.shr_s i32.const 127 i32.sub local.set $e
      local.get $bits i32.const 0x7fffff i32.and i32.const 0x3f800000 i32.or f32.reinterpret_i32 f64.promote_f32 local.set $m
      local.get $m f64.const 1.4142135623730951 f64.gt
      if
        local.get $m f64.const 0.5 f64.mul local.set $m
        local.get $e i32.const 1 i32.add local.set $e
      end
      local.get $m f64.const 1 f64.sub local.get $m f64.const 1 f64.add f64.div local.tee $s local.get $s f64.mul local.set $s2
      f64.const ${inv[0]} local.set $t
      ${inv
        .slice(1)
        .map((c) => `local.get $t local.get $s2 f64.mul f64.const ${c} f64.add local.set $t`)
        .join("\n      ")}
      local.get $t local.get $s2 f64.mul f64.const 1 f64.add local.get $s f64.mul f64.const 2 f64.mul
      local.get $e f64.convert_i32_s f64.const 0.6931471805599453 f64.mul f64.add
      f32.demote_f64`,
  };
}

/** Claims chunks of rows: sets $r and $rEnd, returns from the function when none is left. */
const claim = `
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $r
        local.get $rows i32.ge_s if return end
        local.get $r local.get $chunk i32.add local.tee $rEnd local.get $rows local.get $rEnd local.get $rows i32.lt_s select local.set $rEnd`;

/** Lane sum of the v128 local `v` (as f32, left on the stack). */
const laneSum = (v: string) =>
  `local.get ${v} f32x4.extract_lane 0 local.get ${v} f32x4.extract_lane 1 f32.add
   local.get ${v} f32x4.extract_lane 2 local.get ${v} f32x4.extract_lane 3 f32.add f32.add`;

/**
 * softmaxRows(x, y, rows, C, log, counter, chunk): y = softmax(x) (log: log-softmax) of each of the
 * contiguous rows of C floats; x and y may be the same address.
 */
function softmaxRows(): FuncSource {
  return {
    name: "softmaxRows",
    params: [
      ["$x", "i32"],
      ["$y", "i32"],
      ["$rows", "i32"],
      ["$C", "i32"],
      ["$log", "i32"],
      ["$counter", "i32"],
      ["$chunk", "i32"],
    ],
    locals: [
      ["$r", "i32"],
      ["$rEnd", "i32"],
      ["$j", "i32"],
      ["$px", "i32"],
      ["$py", "i32"],
      ["$m", "f32"],
      ["$sum", "f32"],
      ["$vm", "v128"],
      ["$vs", "v128"],
      ["$e", "v128"],
    ],
    body: `
      loop $claim
        ${claim}
        loop $row
          local.get $x local.get $r local.get $C i32.mul i32.const 2 i32.shl i32.add local.set $px
          local.get $y local.get $r local.get $C i32.mul i32.const 2 i32.shl i32.add local.set $py
          ;; row max
          f32.const -Infinity f32x4.splat local.set $vm
          i32.const 0 local.set $j
          block $d1 loop $l1
            local.get $j i32.const 4 i32.add local.get $C i32.gt_s br_if $d1
            local.get $vm local.get $px local.get $j i32.const 2 i32.shl i32.add v128.load f32x4.max local.set $vm
            local.get $j i32.const 4 i32.add local.set $j br $l1
          end end
          local.get $vm f32x4.extract_lane 0 local.get $vm f32x4.extract_lane 1 f32.max
          local.get $vm f32x4.extract_lane 2 local.get $vm f32x4.extract_lane 3 f32.max f32.max local.set $m
          block $d2 loop $l2
            local.get $j local.get $C i32.ge_s br_if $d2
            local.get $m local.get $px local.get $j i32.const 2 i32.shl i32.add f32.load f32.max local.set $m
            local.get $j i32.const 1 i32.add local.set $j br $l2
          end end
          local.get $m f32x4.splat local.set $vm
          ;; exp and sum
          f32.const 0 f32x4.splat local.set $vs
          i32.const 0 local.set $j
          block $d3 loop $l3
            local.get $j i32.const 4 i32.add local.get $C i32.gt_s br_if $d3
            local.get $px local.get $j i32.const 2 i32.shl i32.add v128.load local.get $vm f32x4.sub call $exp4 local.set $e
            local.get $log i32.eqz if
              local.get $py local.get $j i32.const 2 i32.shl i32.add local.get $e v128.store
            end
            local.get $vs local.get $e f32x4.add local.set $vs
            local.get $j i32.const 4 i32.add local.set $j br $l3
          end end
          ${laneSum("$vs")} local.set $sum
          block $d4 loop $l4
            local.get $j local.get $C i32.ge_s br_if $d4
            local.get $px local.get $j i32.const 2 i32.shl i32.add f32.load local.get $m f32.sub f32x4.splat call $exp4 local.set $e
            local.get $log i32.eqz if
              local.get $py local.get $j i32.const 2 i32.shl i32.add local.get $e f32x4.extract_lane 0 f32.store
            end
            local.get $sum local.get $e f32x4.extract_lane 0 f32.add local.set $sum
            local.get $j i32.const 1 i32.add local.set $j br $l4
          end end
          ;; normalize: y *= 1/sum, or y = x − (m + ln sum)
          local.get $log
          if
            local.get $m local.get $sum call $ln f32.add f32x4.splat local.set $vm
          else
            f32.const 1 local.get $sum f32.div f32x4.splat local.set $vs
          end
          i32.const 0 local.set $j
          block $d5 loop $l5
            local.get $j i32.const 4 i32.add local.get $C i32.gt_s br_if $d5
            local.get $py local.get $j i32.const 2 i32.shl i32.add
            local.get $log
            if
              local.get $px local.get $j i32.const 2 i32.shl i32.add v128.load local.get $vm f32x4.sub local.set $e
            else
              local.get $py local.get $j i32.const 2 i32.shl i32.add v128.load local.get $vs f32x4.mul local.set $e
            end
            local.get $e v128.store
            local.get $j i32.const 4 i32.add local.set $j br $l5
          end end
          block $d6 loop $l6
            local.get $j local.get $C i32.ge_s br_if $d6
            local.get $py local.get $j i32.const 2 i32.shl i32.add
            local.get $log
            if
              local.get $px local.get $j i32.const 2 i32.shl i32.add f32.load f32x4.splat local.get $vm f32x4.sub local.set $e
            else
              local.get $py local.get $j i32.const 2 i32.shl i32.add f32.load f32x4.splat local.get $vs f32x4.mul local.set $e
            end
            local.get $e f32x4.extract_lane 0 f32.store
            local.get $j i32.const 1 i32.add local.set $j br $l6
          end end
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * attnSoftmax(s, rows, Lq, Lk, scale, shift, causal, mask, ms0, ms1, ms2, ms3, Hq, maxOut, sumOut,
 * counter, chunk): row r of the scores s [B·Hq·Lq, Lk] (query i = r mod Lq of head (b, h)) becomes
 * softmax(scale·s + mask[b, h, i, :]) over the keys j ≤ i + shift (all keys when not causal), zero
 * elsewhere; maxOut[r] and sumOut[r] get the row's max and Σexp (lse = max + ln sum). A row with no
 * finite score is all zeros with max −∞. `mask` 0 means none; its strides are in elements.
 */
function attnSoftmax(): FuncSource {
  const i32 = (n: string): [string, "i32"] => [n, "i32"];
  return {
    name: "attnSoftmax",
    params: [
      i32("$s"),
      i32("$rows"),
      i32("$Lq"),
      i32("$Lk"),
      ["$scale", "f32"],
      i32("$shift"),
      i32("$causal"),
      i32("$mask"),
      i32("$ms0"),
      i32("$ms1"),
      i32("$ms2"),
      i32("$ms3"),
      i32("$Hq"),
      i32("$maxOut"),
      i32("$sumOut"),
      i32("$counter"),
      i32("$chunk"),
    ],
    locals: [
      i32("$r"),
      i32("$rEnd"),
      i32("$p"),
      i32("$bh"),
      i32("$b"),
      i32("$h"),
      i32("$i"),
      i32("$limit"),
      i32("$j"),
      i32("$mp"),
      ["$m", "f32"],
      ["$v", "f32"],
      ["$sum", "f32"],
      ["$vm", "v128"],
      ["$vs", "v128"],
      ["$e", "v128"],
    ],
    body: `
      loop $claim
        ${claim}
        loop $row
          local.get $s local.get $r local.get $Lk i32.mul i32.const 2 i32.shl i32.add local.set $p
          local.get $r local.get $Lq i32.div_u local.tee $bh local.get $Hq i32.div_u local.set $b
          local.get $bh local.get $b local.get $Hq i32.mul i32.sub local.set $h
          local.get $r local.get $bh local.get $Lq i32.mul i32.sub local.set $i
          local.get $Lk local.set $limit
          local.get $causal if
            local.get $i local.get $shift i32.add i32.const 1 i32.add local.set $limit
            local.get $limit i32.const 0 i32.lt_s if i32.const 0 local.set $limit end
            local.get $limit local.get $Lk i32.gt_s if local.get $Lk local.set $limit end
          end
          local.get $mask local.get $b local.get $ms0 i32.mul local.get $h local.get $ms1 i32.mul i32.add
          local.get $i local.get $ms2 i32.mul i32.add i32.const 2 i32.shl i32.add local.set $mp
          ;; scale, mask, max
          f32.const -Infinity local.set $m
          i32.const 0 local.set $j
          block $d1 loop $l1
            local.get $j local.get $limit i32.ge_s br_if $d1
            local.get $p local.get $j i32.const 2 i32.shl i32.add f32.load local.get $scale f32.mul local.set $v
            local.get $mask if
              local.get $v local.get $mp local.get $j local.get $ms3 i32.mul i32.const 2 i32.shl i32.add f32.load f32.add local.set $v
            end
            local.get $p local.get $j i32.const 2 i32.shl i32.add local.get $v f32.store
            local.get $m local.get $v f32.max local.set $m
            local.get $j i32.const 1 i32.add local.set $j br $l1
          end end
          f32.const 0 local.set $sum
          local.get $m f32.const -Infinity f32.eq
          if
            i32.const 0 local.set $limit
          else
            ;; exp and sum
            local.get $m f32x4.splat local.set $vm
            f32.const 0 f32x4.splat local.set $vs
            i32.const 0 local.set $j
            block $d3 loop $l3
              local.get $j i32.const 4 i32.add local.get $limit i32.gt_s br_if $d3
              local.get $p local.get $j i32.const 2 i32.shl i32.add
              local.get $p local.get $j i32.const 2 i32.shl i32.add v128.load local.get $vm f32x4.sub call $exp4 local.tee $e
              v128.store
              local.get $vs local.get $e f32x4.add local.set $vs
              local.get $j i32.const 4 i32.add local.set $j br $l3
            end end
            ${laneSum("$vs")} local.set $sum
            block $d4 loop $l4
              local.get $j local.get $limit i32.ge_s br_if $d4
              local.get $p local.get $j i32.const 2 i32.shl i32.add
              local.get $p local.get $j i32.const 2 i32.shl i32.add f32.load local.get $m f32.sub f32x4.splat call $exp4
              f32x4.extract_lane 0 local.tee $v f32.store
              local.get $sum local.get $v f32.add local.set $sum
              local.get $j i32.const 1 i32.add local.set $j br $l4
            end end
            f32.const 1 local.get $sum f32.div f32x4.splat local.set $vs
            i32.const 0 local.set $j
            block $d5 loop $l5
              local.get $j i32.const 4 i32.add local.get $limit i32.gt_s br_if $d5
              local.get $p local.get $j i32.const 2 i32.shl i32.add
              local.get $p local.get $j i32.const 2 i32.shl i32.add v128.load local.get $vs f32x4.mul v128.store
              local.get $j i32.const 4 i32.add local.set $j br $l5
            end end
            block $d6 loop $l6
              local.get $j local.get $limit i32.ge_s br_if $d6
              local.get $p local.get $j i32.const 2 i32.shl i32.add
              local.get $p local.get $j i32.const 2 i32.shl i32.add f32.load local.get $vs f32x4.extract_lane 0 f32.mul f32.store
              local.get $j i32.const 1 i32.add local.set $j br $l6
            end end
          end
          ;; keys past the causal limit (or the whole row when nothing is finite) get probability 0
          local.get $limit local.set $j
          block $d7 loop $l7
            local.get $j local.get $Lk i32.ge_s br_if $d7
            local.get $p local.get $j i32.const 2 i32.shl i32.add f32.const 0 f32.store
            local.get $j i32.const 1 i32.add local.set $j br $l7
          end end
          local.get $maxOut local.get $r i32.const 2 i32.shl i32.add local.get $m f32.store
          local.get $sumOut local.get $r i32.const 2 i32.shl i32.add local.get $sum f32.store
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * attnGradScores(p, dp, dvec, rows, Lk, scale, counter, chunk): dp ← p ∘ (dp − dvec[r]) · scale for
 * each row r of [rows, Lk]: the gradient of the pre-softmax scores, with dvec[r] = Σ_d dO·O.
 */
function attnGradScores(): FuncSource {
  const i32 = (n: string): [string, "i32"] => [n, "i32"];
  return {
    name: "attnGradScores",
    params: [
      i32("$p"),
      i32("$dp"),
      i32("$dvec"),
      i32("$rows"),
      i32("$Lk"),
      ["$scale", "f32"],
      i32("$counter"),
      i32("$chunk"),
    ],
    locals: [i32("$r"), i32("$rEnd"), i32("$j"), i32("$pp"), i32("$dd"), ["$vd", "v128"], ["$vs", "v128"]],
    body: `
      local.get $scale f32x4.splat local.set $vs
      loop $claim
        ${claim}
        loop $row
          local.get $p local.get $r local.get $Lk i32.mul i32.const 2 i32.shl i32.add local.set $pp
          local.get $dp local.get $r local.get $Lk i32.mul i32.const 2 i32.shl i32.add local.set $dd
          local.get $dvec local.get $r i32.const 2 i32.shl i32.add v128.load32_splat local.set $vd
          i32.const 0 local.set $j
          block $d1 loop $l1
            local.get $j i32.const 4 i32.add local.get $Lk i32.gt_s br_if $d1
            local.get $dd
            local.get $dd v128.load local.get $vd f32x4.sub local.get $pp v128.load f32x4.mul local.get $vs f32x4.mul
            v128.store
            local.get $dd i32.const 16 i32.add local.set $dd
            local.get $pp i32.const 16 i32.add local.set $pp
            local.get $j i32.const 4 i32.add local.set $j br $l1
          end end
          block $d2 loop $l2
            local.get $j local.get $Lk i32.ge_s br_if $d2
            local.get $dd
            local.get $dd f32.load local.get $vd f32x4.extract_lane 0 f32.sub local.get $pp f32.load f32.mul local.get $scale f32.mul
            f32.store
            local.get $dd i32.const 4 i32.add local.set $dd
            local.get $pp i32.const 4 i32.add local.set $pp
            local.get $j i32.const 1 i32.add local.set $j br $l2
          end end
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * attnRowDot(x, xs0, xs1, xs2, xs3, y, ys0, ys1, ys2, ys3, rows, H, L, D, out, counter, chunk): out[r] =
 * Σ_d x[b,h,i,d]·y[b,h,i,d] for row r = (b·H + h)·L + i of two strided 4-D views (attention's dO·O).
 */
function attnRowDot(): FuncSource {
  const i32 = (n: string): [string, "i32"] => [n, "i32"];
  return {
    name: "attnRowDot",
    params: [
      "$x",
      "$xs0",
      "$xs1",
      "$xs2",
      "$xs3",
      "$y",
      "$ys0",
      "$ys1",
      "$ys2",
      "$ys3",
      "$rows",
      "$H",
      "$L",
      "$D",
      "$out",
      "$counter",
      "$chunk",
    ].map(i32),
    locals: [
      ...["$r", "$rEnd", "$b", "$h", "$i", "$t", "$px", "$py", "$d", "$sx", "$sy"].map(i32),
      ["$acc", "f32"],
    ],
    body: `
      local.get $xs3 i32.const 2 i32.shl local.set $sx
      local.get $ys3 i32.const 2 i32.shl local.set $sy
      loop $claim
        ${claim}
        loop $row
          local.get $r local.get $L i32.div_u local.tee $t local.get $H i32.div_u local.set $b
          local.get $t local.get $b local.get $H i32.mul i32.sub local.set $h
          local.get $r local.get $t local.get $L i32.mul i32.sub local.set $i
          local.get $x local.get $b local.get $xs0 i32.mul local.get $h local.get $xs1 i32.mul i32.add
          local.get $i local.get $xs2 i32.mul i32.add i32.const 2 i32.shl i32.add local.set $px
          local.get $y local.get $b local.get $ys0 i32.mul local.get $h local.get $ys1 i32.mul i32.add
          local.get $i local.get $ys2 i32.mul i32.add i32.const 2 i32.shl i32.add local.set $py
          f32.const 0 local.set $acc
          local.get $D local.set $d
          block $done
            local.get $d i32.eqz br_if $done
            loop $l
              local.get $acc local.get $px f32.load local.get $py f32.load f32.mul f32.add local.set $acc
              local.get $px local.get $sx i32.add local.set $px
              local.get $py local.get $sy i32.add local.set $py
              local.get $d i32.const 1 i32.sub local.tee $d br_if $l
            end
          end
          local.get $out local.get $r i32.const 2 i32.shl i32.add local.get $acc f32.store
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}
