import type { FuncSource, ValType } from "../assembler.js";
import { accumulated, at, simdLoop, zeroAccumulators } from "./text.js";

/**
 * Fused row kernels of training: LayerNorm/RMSNorm forward and backward, cross entropy forward and
 * backward (class indices, ignore index, label smoothing), and the AdamW update. Threads claim chunks of
 * rows (or elements) through an atomic counter, as the other row kernels do.
 */

const claimRows = `
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $r
        local.get $rows i32.ge_s if return end
        local.get $r local.get $chunk i32.add local.tee $rEnd local.get $rows local.get $rEnd local.get $rows i32.lt_s select local.set $rEnd`;

const decl = (names: string, t: ValType): [string, ValType][] => names.split(" ").map((n) => [n, t]);
/** v128 accumulator pairs ($a and $a_t). */
const accs = (...names: string[]): [string, ValType][] => names.flatMap((n) => decl(`${n} ${n}_t`, "v128"));

/** Returns the fused training kernels. */
export function fusedFuncs(): FuncSource[] {
  return [normRows(), normBackwardRows(), crossEntropyRows(), crossEntropyBackwardRows(), adamw()];
}

/**
 * normRows(x, rows, D, w, b, eps, rms, out, mean, rstd, counter, chunk): LayerNorm (RMSNorm when rms)
 * of contiguous rows; w and b point at D floats (ones and zeros when the op has none).
 */
function normRows(): FuncSource {
  return {
    name: "normRows",
    params: [
      ...decl("$x $rows $D $w $b", "i32"),
      ["$eps", "f32"],
      ...decl("$rms $out $mean $rstd $counter $chunk", "i32"),
    ],
    locals: [
      ...decl("$r $rEnd $j $px $po", "i32"),
      ...decl("$mu $rs", "f32"),
      ...decl("$vmu $vrs", "v128"),
      ...accs("$s"),
    ],
    body: `
      loop $claim
        ${claimRows}
        loop $row
          local.get $x local.get $r local.get $D i32.mul i32.const 2 i32.shl i32.add local.set $px
          local.get $out local.get $r local.get $D i32.mul i32.const 2 i32.shl i32.add local.set $po
          f32.const 0 local.set $mu
          local.get $rms i32.eqz if
            ${zeroAccumulators("$s")}
            ${simdLoop("$j", "local.get $D", (o) => o.accumulate("$s", o.load(at("$px", "$j"))))}
            ${accumulated("$s")} local.get $D f32.convert_i32_s f32.div local.set $mu
            local.get $mean local.get $r i32.const 2 i32.shl i32.add local.get $mu f32.store
          end
          local.get $mu f32x4.splat local.set $vmu
          ${zeroAccumulators("$s")}
          ${simdLoop("$j", "local.get $D", (o) =>
            o.accumulate(
              "$s",
              `${o.load(at("$px", "$j"))} local.get $vmu f32x4.sub local.tee $vrs local.get $vrs f32x4.mul`,
            ),
          )}
          f32.const 1 ${accumulated("$s")} local.get $D f32.convert_i32_s f32.div local.get $eps f32.add f32.sqrt f32.div local.set $rs
          local.get $rstd local.get $r i32.const 2 i32.shl i32.add local.get $rs f32.store
          local.get $rs f32x4.splat local.set $vrs
          ${simdLoop("$j", "local.get $D", (o) =>
            o.store(
              at("$po", "$j"),
              `${o.load(at("$px", "$j"))} local.get $vmu f32x4.sub local.get $vrs f32x4.mul
               ${o.load(at("$w", "$j"))} f32x4.mul ${o.load(at("$b", "$j"))} f32x4.add`,
            ),
          )}
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * normBackwardRows(x, rows, D, w, mean, rstd, dy, rms, dx, dw, db, counter, chunk): dx of each row;
 * Σ_rows dy·x̂ and Σ_rows dy are added into this thread's partial sums dw and db (D floats each).
 */
function normBackwardRows(): FuncSource {
  const xhat = (o: { load(a: string): string }) =>
    `${o.load(at("$px", "$j"))} local.get $vmu f32x4.sub local.get $vrs f32x4.mul`;
  const g = (o: { load(a: string): string }) =>
    `${o.load(at("$pg", "$j"))} ${o.load(at("$w", "$j"))} f32x4.mul`;
  return {
    name: "normBackwardRows",
    params: decl("$x $rows $D $w $mean $rstd $dy $rms $dx $dw $db $counter $chunk", "i32"),
    locals: [
      ...decl("$r $rEnd $j $px $pg $pd", "i32"),
      ...decl("$mu $rs $sg $sgx", "f32"),
      ...decl("$vmu $vrs $vsg $vsgx $xh $gg", "v128"),
      ...accs("$a", "$c"),
    ],
    body: `
      loop $claim
        ${claimRows}
        loop $row
          local.get $x local.get $r local.get $D i32.mul i32.const 2 i32.shl i32.add local.set $px
          local.get $dy local.get $r local.get $D i32.mul i32.const 2 i32.shl i32.add local.set $pg
          local.get $dx local.get $r local.get $D i32.mul i32.const 2 i32.shl i32.add local.set $pd
          f32.const 0 local.set $mu
          local.get $rms i32.eqz if local.get $mean local.get $r i32.const 2 i32.shl i32.add f32.load local.set $mu end
          local.get $mu f32x4.splat local.set $vmu
          local.get $rstd local.get $r i32.const 2 i32.shl i32.add f32.load local.tee $rs f32x4.splat local.set $vrs
          ${zeroAccumulators("$a", "$c")}
          ${simdLoop(
            "$j",
            "local.get $D",
            (o) => `
            ${xhat(o)} local.set $xh
            ${g(o)} local.set $gg
            ${o.accumulate("$a", "local.get $gg")}
            ${o.accumulate("$c", "local.get $gg local.get $xh f32x4.mul")}
            ${o.store(at("$dw", "$j"), `${o.load(at("$dw", "$j"))} ${o.load(at("$pg", "$j"))} local.get $xh f32x4.mul f32x4.add`)}
            ${o.store(at("$db", "$j"), `${o.load(at("$db", "$j"))} ${o.load(at("$pg", "$j"))} f32x4.add`)}`,
          )}
          ${accumulated("$a")} local.get $D f32.convert_i32_s f32.div local.set $sg
          ${accumulated("$c")} local.get $D f32.convert_i32_s f32.div local.set $sgx
          local.get $rms if f32.const 0 local.set $sg end
          local.get $sg f32x4.splat local.set $vsg
          local.get $sgx f32x4.splat local.set $vsgx
          ${simdLoop("$j", "local.get $D", (o) =>
            o.store(
              at("$pd", "$j"),
              `${g(o)} local.get $vsg f32x4.sub ${xhat(o)} local.get $vsgx f32x4.mul f32x4.sub local.get $vrs f32x4.mul`,
            ),
          )}
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * crossEntropyRows(x, target, rows, C, ignore, smoothing, loss, lse, counter, chunk): per row of logits
 * [rows, C] (contiguous) and int32 target: lse = logsumexp, loss = (1−ε)·(lse − x_t) + ε·(lse − mean x),
 * 0 where target = ignore.
 */
function crossEntropyRows(): FuncSource {
  return {
    name: "crossEntropyRows",
    params: [
      ...decl("$x $target $rows $C $ignore", "i32"),
      ["$eps", "f32"],
      ...decl("$loss $lse $counter $chunk", "i32"),
    ],
    locals: [
      ...decl("$r $rEnd $j $px $t", "i32"),
      ...decl("$m $l $sx", "f32"),
      ...decl("$vm", "v128"),
      ...accs("$s", "$z"),
    ],
    body: `
      loop $claim
        ${claimRows}
        loop $row
          local.get $x local.get $r local.get $C i32.mul i32.const 2 i32.shl i32.add local.set $px
          local.get $target local.get $r i32.const 2 i32.shl i32.add i32.load local.set $t
          f32.const -Infinity f32x4.splat local.tee $vm local.set $vm
          ${simdLoop("$j", "local.get $C", (o) =>
            o.bytes === 16
              ? `local.get $vm ${o.load(at("$px", "$j"))} f32x4.max local.set $vm`
              : `local.get $vm ${at("$px", "$j")} v128.load32_splat f32x4.max local.set $vm`,
          )}
          local.get $vm f32x4.extract_lane 0 local.get $vm f32x4.extract_lane 1 f32.max
          local.get $vm f32x4.extract_lane 2 local.get $vm f32x4.extract_lane 3 f32.max f32.max local.tee $m
          f32x4.splat local.set $vm
          ${zeroAccumulators("$s", "$z")}
          ${simdLoop(
            "$j",
            "local.get $C",
            (o) => `
            ${o.accumulate("$s", `${o.load(at("$px", "$j"))} local.get $vm f32x4.sub call $exp4`)}
            ${o.accumulate("$z", o.load(at("$px", "$j")))}`,
          )}
          local.get $m ${accumulated("$s")} call $ln f32.add local.set $l
          ${accumulated("$z")} local.get $C f32.convert_i32_s f32.div local.set $sx
          local.get $lse local.get $r i32.const 2 i32.shl i32.add local.get $l f32.store
          local.get $loss local.get $r i32.const 2 i32.shl i32.add
          local.get $t local.get $ignore i32.eq
          if (result f32)
            f32.const 0
          else
            f32.const 1 local.get $eps f32.sub
            local.get $l local.get $px local.get $t i32.const 2 i32.shl i32.add f32.load f32.sub f32.mul
            local.get $eps local.get $l local.get $sx f32.sub f32.mul f32.add
          end
          f32.store
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * crossEntropyBackwardRows(x, target, lse, dLoss, dls, rows, C, ignore, smoothing, out, counter, chunk):
 * out = dLoss[r]·(softmax(x) − ε/C − (1−ε)·onehot(t)), zero rows where target = ignore.
 */
function crossEntropyBackwardRows(): FuncSource {
  return {
    name: "crossEntropyBackwardRows",
    params: [
      ...decl("$x $target $lse $dLoss $dls $rows $C $ignore", "i32"),
      ["$eps", "f32"],
      ...decl("$out $counter $chunk", "i32"),
    ],
    locals: [
      ...decl("$r $rEnd $j $px $po $t", "i32"),
      ...decl("$g", "f32"),
      ...decl("$vl $vg $voff", "v128"),
    ],
    body: `
      loop $claim
        ${claimRows}
        loop $row
          local.get $x local.get $r local.get $C i32.mul i32.const 2 i32.shl i32.add local.set $px
          local.get $out local.get $r local.get $C i32.mul i32.const 2 i32.shl i32.add local.set $po
          local.get $target local.get $r i32.const 2 i32.shl i32.add i32.load local.tee $t
          local.get $ignore i32.eq
          if
            f32.const 0 f32x4.splat local.set $vg
            ${simdLoop("$j", "local.get $C", (o) => o.store(at("$po", "$j"), "local.get $vg"))}
          else
            local.get $dLoss local.get $r local.get $dls i32.mul i32.const 2 i32.shl i32.add f32.load local.tee $g f32x4.splat local.set $vg
            local.get $lse local.get $r i32.const 2 i32.shl i32.add f32.load f32x4.splat local.set $vl
            local.get $eps local.get $C f32.convert_i32_s f32.div f32x4.splat local.set $voff
            ${simdLoop("$j", "local.get $C", (o) =>
              o.store(
                at("$po", "$j"),
                `${o.load(at("$px", "$j"))} local.get $vl f32x4.sub call $exp4 local.get $voff f32x4.sub local.get $vg f32x4.mul`,
              ),
            )}
            local.get $po local.get $t i32.const 2 i32.shl i32.add
            local.get $po local.get $t i32.const 2 i32.shl i32.add f32.load
            local.get $g f32.const 1 local.get $eps f32.sub f32.mul f32.sub
            f32.store
          end
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * adamw(p, g, m, v, n, decay, beta1, beta2, stepSize, invSqrtBc2, eps, counter, chunk): PyTorch's AdamW
 * on n contiguous floats (bias corrections folded into stepSize and invSqrtBc2 by the caller).
 */
function adamw(): FuncSource {
  return {
    name: "adamw",
    params: [
      ...decl("$p $g $m $v $n", "i32"),
      ...decl("$decay $beta1 $beta2 $stepSize $invSqrtBc2 $eps", "f32"),
      ...decl("$counter $chunk", "i32"),
    ],
    locals: [
      ...decl("$r $rEnd $j $pp $pg $pm $pv", "i32"),
      ...decl("$vd $b1 $c1 $b2 $c2 $ss $ib $ve $gg $mm $vv", "v128"),
    ],
    body: `
      local.get $decay f32x4.splat local.set $vd
      local.get $beta1 f32x4.splat local.set $b1
      f32.const 1 local.get $beta1 f32.sub f32x4.splat local.set $c1
      local.get $beta2 f32x4.splat local.set $b2
      f32.const 1 local.get $beta2 f32.sub f32x4.splat local.set $c2
      local.get $stepSize f32x4.splat local.set $ss
      local.get $invSqrtBc2 f32x4.splat local.set $ib
      local.get $eps f32x4.splat local.set $ve
      loop $claim
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $r
        local.get $n i32.ge_s if return end
        local.get $r local.get $chunk i32.add local.tee $rEnd local.get $n local.get $rEnd local.get $n i32.lt_s select local.set $rEnd
        local.get $r i32.const 2 i32.shl local.tee $j local.get $p i32.add local.set $pp
        local.get $j local.get $g i32.add local.set $pg
        local.get $j local.get $m i32.add local.set $pm
        local.get $j local.get $v i32.add local.set $pv
        ${simdLoop(
          "$j",
          "local.get $rEnd local.get $r i32.sub",
          (o) => `
          ${o.load(at("$pg", "$j"))} local.set $gg
          ${o.load(at("$pm", "$j"))} local.get $b1 f32x4.mul local.get $gg local.get $c1 f32x4.mul f32x4.add local.set $mm
          ${o.load(at("$pv", "$j"))} local.get $b2 f32x4.mul local.get $gg local.get $gg f32x4.mul local.get $c2 f32x4.mul f32x4.add local.set $vv
          ${o.store(at("$pm", "$j"), "local.get $mm")}
          ${o.store(at("$pv", "$j"), "local.get $vv")}
          ${o.store(
            at("$pp", "$j"),
            `${o.load(at("$pp", "$j"))} local.get $vd f32x4.mul
             local.get $ss local.get $mm f32x4.mul local.get $vv f32x4.sqrt local.get $ib f32x4.mul local.get $ve f32x4.add f32x4.div
             f32x4.sub`,
          )}`,
        )}
        br $claim
      end`,
  };
}
