import type { FuncSource, ValType } from "../assembler.js";

/**
 * Sums (and means, through `scale`) over the last or the leading dims of a row-major block: the
 * reductions of training (loss means, bias gradients, broadcast-gradient sums). Partial sums run in
 * f32x4 lanes over blocks of at most 64 steps and then go into f64 accumulators, so long sums keep
 * about the reference's float64 accuracy.
 */

const decl = (names: string, t: ValType): [string, ValType][] => names.split(" ").map((n) => [n, t]);

/** Returns the reduction kernels. */
export function reduceFuncs(): FuncSource[] {
  return [sumRows(), sumColumns()];
}

/** Block length (elements or rows) of the f32 partial sums. */
const BLOCK = 64;

/**
 * sumRows(x, out, rows, L, srow, scale, counter, chunk): out[r] = scale · Σ_j x[r·srow + j] for j < L.
 */
function sumRows(): FuncSource {
  return {
    name: "sumRows",
    params: [...decl("$x $out $rows $L $srow", "i32"), ["$scale", "f64"], ...decl("$counter $chunk", "i32")],
    locals: [...decl("$r $rEnd $j $end $p", "i32"), ...decl("$acc", "f64"), ...decl("$v", "v128")],
    body: `
      loop $claim
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $r
        local.get $rows i32.ge_s if return end
        local.get $r local.get $chunk i32.add local.tee $rEnd local.get $rows local.get $rEnd local.get $rows i32.lt_s select local.set $rEnd
        loop $row
          local.get $x local.get $r local.get $srow i32.mul i32.const 2 i32.shl i32.add local.set $p
          f64.const 0 local.set $acc
          i32.const 0 local.set $j
          block $blocksDone loop $block
            local.get $j i32.const 4 i32.add local.get $L i32.gt_s br_if $blocksDone
            local.get $j i32.const ${BLOCK * 4} i32.add local.tee $end local.get $L local.get $end local.get $L i32.lt_s select local.set $end
            f32.const 0 f32x4.splat local.set $v
            block $vd loop $vl
              local.get $j i32.const 4 i32.add local.get $end i32.gt_s br_if $vd
              local.get $v local.get $p local.get $j i32.const 2 i32.shl i32.add v128.load f32x4.add local.set $v
              local.get $j i32.const 4 i32.add local.set $j br $vl
            end end
            local.get $acc
            local.get $v f32x4.extract_lane 0 local.get $v f32x4.extract_lane 1 f32.add f64.promote_f32 f64.add
            local.get $v f32x4.extract_lane 2 local.get $v f32x4.extract_lane 3 f32.add f64.promote_f32 f64.add
            local.set $acc
            br $block
          end end
          block $sd loop $sl
            local.get $j local.get $L i32.ge_s br_if $sd
            local.get $acc local.get $p local.get $j i32.const 2 i32.shl i32.add f32.load f64.promote_f32 f64.add local.set $acc
            local.get $j i32.const 1 i32.add local.set $j br $sl
          end end
          local.get $out local.get $r i32.const 2 i32.shl i32.add
          local.get $acc local.get $scale f64.mul f32.demote_f64 f32.store
          local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $row
        end
        br $claim
      end`,
  };
}

/**
 * sumColumns(x, out, R, D, srow, scale, counter, chunk): out[c] = scale · Σ_r x[r·srow + c] for c < D,
 * threads claiming `chunk` columns (a multiple of 4) at a time.
 */
function sumColumns(): FuncSource {
  const lanes = [0, 1, 2, 3];
  return {
    name: "sumColumns",
    params: [...decl("$x $out $R $D $srow", "i32"), ["$scale", "f64"], ...decl("$counter $chunk", "i32")],
    locals: [
      ...decl("$c $cEnd $r $rEnd $p", "i32"),
      ...decl("$a0 $a1 $a2 $a3", "f64"),
      ...decl("$v", "v128"),
      ["$s", "f64"],
    ],
    body: `
      loop $claim
        local.get $counter i32.const 1 i32.atomic.rmw.add local.get $chunk i32.mul local.tee $c
        local.get $D i32.ge_s if return end
        local.get $c local.get $chunk i32.add local.tee $cEnd local.get $D local.get $cEnd local.get $D i32.lt_s select local.set $cEnd
        ;; four columns at a time
        block $colsDone loop $cols
          local.get $c i32.const 4 i32.add local.get $cEnd i32.gt_s br_if $colsDone
          ${lanes.map((l) => `f64.const 0 local.set $a${l}`).join(" ")}
          i32.const 0 local.set $r
          block $rowsDone loop $rows
            local.get $r local.get $R i32.ge_s br_if $rowsDone
            local.get $r i32.const ${BLOCK} i32.add local.tee $rEnd local.get $R local.get $rEnd local.get $R i32.lt_s select local.set $rEnd
            f32.const 0 f32x4.splat local.set $v
            local.get $x local.get $r local.get $srow i32.mul local.get $c i32.add i32.const 2 i32.shl i32.add local.set $p
            loop $blk
              local.get $v local.get $p v128.load f32x4.add local.set $v
              local.get $p local.get $srow i32.const 2 i32.shl i32.add local.set $p
              local.get $r i32.const 1 i32.add local.tee $r local.get $rEnd i32.lt_s br_if $blk
            end
            ${lanes.map((l) => `local.get $a${l} local.get $v f32x4.extract_lane ${l} f64.promote_f32 f64.add local.set $a${l}`).join("\n            ")}
            br $rows
          end end
          ${lanes
            .map(
              (l) =>
                `local.get $out local.get $c i32.const 2 i32.shl i32.add local.get $a${l} local.get $scale f64.mul f32.demote_f64 f32.store offset=${l * 4}`,
            )
            .join("\n          ")}
          local.get $c i32.const 4 i32.add local.set $c
          br $cols
        end end
        ;; the last 0–3 columns one at a time
        block $tailDone loop $tail
          local.get $c local.get $cEnd i32.ge_s br_if $tailDone
          f64.const 0 local.set $s
          i32.const 0 local.set $r
          block $td loop $tl
            local.get $r local.get $R i32.ge_s br_if $td
            local.get $s local.get $x local.get $r local.get $srow i32.mul local.get $c i32.add i32.const 2 i32.shl i32.add f32.load f64.promote_f32 f64.add local.set $s
            local.get $r i32.const 1 i32.add local.set $r br $tl
          end end
          local.get $out local.get $c i32.const 2 i32.shl i32.add local.get $s local.get $scale f64.mul f32.demote_f64 f32.store
          local.get $c i32.const 1 i32.add local.set $c
          br $tail
        end end
        br $claim
      end`,
  };
}
