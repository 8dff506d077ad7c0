import type { FuncSource } from "../assembler.js";
import { forRange, type Madd, min } from "./text.js";

/**
 * Batched single-precision GEMM in the BLIS layout: B is packed into KC×NR column panels, A into
 * MC×KC row panels of MR rows, and a 4×8 register-blocked micro-kernel (8 f32x4 accumulators, which fit
 * V8's xmm registers; no K unrolling, which would spill) runs over the packed panels. Operands are read
 * through arbitrary element strides, so transposed and broadcast (stride 0) operands need no copy.
 */

/** Rows of the micro-kernel. */
export const MR = 4;
/** Columns of the micro-kernel (two f32x4). */
export const NR = 8;
/** Depth of a packed block (A micro-panel 4 KiB and B micro-panel 8 KiB stay in L1). */
export const KC = 256;
/** Rows of a packed A block (128 KiB, in L2). */
export const MC = 128;
/** Columns of a packed B block (2 MiB, in L3). */
export const NC = 2048;
/** Bytes of per-thread workspace `gemm` needs: packed A, packed B, an edge tile and a zero. */
export const GEMM_WORKSPACE_BYTES = (MC * KC + KC * NC) * 4 + 256;

const PACK_A = 0;
const PACK_B = MC * KC * 4;
const TMP = PACK_B + KC * NC * 4;
const ZERO = TMP + 128;

/** Returns the functions of the GEMM: `gemm` (exported) and its packing routines and micro-kernel. */
export function matmulFuncs(madd: Madd): FuncSource[] {
  return [gemm(), gemmChunks(), gemmList(), packA(), packB(), microKernel(madd)];
}

/** Words (i32) of one `gemmList` item: gemm's first 16 arguments. */
export const GEMM_ITEM_WORDS = 16;

/**
 * gemmList(list, count, counter, ws): runs the GEMMs described at `list` (GEMM_ITEM_WORDS i32 each:
 * a b c batch M N K sab sam sak sbb sbk sbn scb scm accumulate), claiming items through the atomic
 * counter: one job for many small independent products (attention's heads).
 */
function gemmList(): FuncSource {
  const fields = Array.from(
    { length: GEMM_ITEM_WORDS },
    (_, i) => `local.get $p i32.load offset=${i * 4}`,
  ).join(" ");
  return {
    name: "gemmList",
    params: [
      ["$list", "i32"],
      ["$count", "i32"],
      ["$counter", "i32"],
      ["$ws", "i32"],
    ],
    locals: [
      ["$i", "i32"],
      ["$p", "i32"],
    ],
    body: `
      loop $claim
        local.get $counter i32.const 1 i32.atomic.rmw.add local.tee $i
        local.get $count i32.ge_s if return end
        local.get $list local.get $i i32.const ${GEMM_ITEM_WORDS * 4} i32.mul i32.add local.set $p
        ${fields} local.get $ws
        call $gemm
        br $claim
      end`,
  };
}

/**
 * gemmChunks(…gemm's arguments…, mode, chunk, chunks, counter): claims chunks of the product through
 * an atomic counter until none is left, so a thread that the OS delays takes fewer chunks and the
 * others take more. A chunk is `chunk` batches (mode 0), columns (mode 1) or rows (mode 2).
 */
function gemmChunks(): FuncSource {
  const names =
    "$a $b $c $batch $M $N $K $sab $sam $sak $sbb $sbk $sbn $scb $scm $accum $ws $mode $chunk $chunks $counter";
  const rest = (from: string[]) => from.map((n) => `local.get ${n}`).join(" ");
  return {
    name: "gemmChunks",
    params: names.split(" ").map((n): [string, "i32"] => [n, "i32"]),
    locals: [
      ["$i", "i32"],
      ["$o", "i32"],
      ["$n", "i32"],
    ],
    body: `
      loop $claim
        local.get $counter i32.const 1 i32.atomic.rmw.add local.tee $i
        local.get $chunks i32.ge_s if return end
        local.get $i local.get $chunk i32.mul local.set $o
        local.get $mode i32.eqz
        if
          ${min("local.get $chunk", "local.get $batch local.get $o i32.sub")} local.set $n
          local.get $a local.get $o local.get $sab i32.mul i32.const 2 i32.shl i32.add
          local.get $b local.get $o local.get $sbb i32.mul i32.const 2 i32.shl i32.add
          local.get $c local.get $o local.get $scb i32.mul i32.const 2 i32.shl i32.add
          local.get $n ${rest(["$M", "$N", "$K"])}
          ${rest(["$sab", "$sam", "$sak", "$sbb", "$sbk", "$sbn", "$scb", "$scm", "$accum", "$ws"])}
          call $gemm
        else
          local.get $mode i32.const 1 i32.eq
          if
            ${min("local.get $chunk", "local.get $N local.get $o i32.sub")} local.set $n
            local.get $a
            local.get $b local.get $o local.get $sbn i32.mul i32.const 2 i32.shl i32.add
            local.get $c local.get $o i32.const 2 i32.shl i32.add
            ${rest(["$batch", "$M"])} local.get $n local.get $K
            ${rest(["$sab", "$sam", "$sak", "$sbb", "$sbk", "$sbn", "$scb", "$scm", "$accum", "$ws"])}
            call $gemm
          else
            ${min("local.get $chunk", "local.get $M local.get $o i32.sub")} local.set $n
            local.get $a local.get $o local.get $sam i32.mul i32.const 2 i32.shl i32.add
            local.get $b
            local.get $c local.get $o local.get $scm i32.mul i32.const 2 i32.shl i32.add
            local.get $batch local.get $n ${rest(["$N", "$K"])}
            ${rest(["$sab", "$sam", "$sak", "$sbb", "$sbk", "$sbn", "$scb", "$scm", "$accum", "$ws"])}
            call $gemm
          end
        end
        br $claim
      end`,
  };
}

/**
 * gemm(a, b, c, batch, M, N, K, sab, sam, sak, sbb, sbk, sbn, scb, scm, accumulate, ws):
 * c[t][m][n] (+)= Σ_k a[t·sab + m·sam + k·sak] · b[t·sbb + k·sbk + n·sbn], pointers in bytes, strides
 * in elements, c's columns contiguous. `ws` points at GEMM_WORKSPACE_BYTES of this thread's scratch.
 * With scb = 0 the batches are summed into c (how grouped-query heads reduce into their k/v head).
 */
function gemm(): FuncSource {
  const i32 = (names: string) => names.split(" ").map((n): [string, "i32"] => [n, "i32"]);
  return {
    name: "gemm",
    params: i32("$a $b $c $batch $M $N $K $sab $sam $sak $sbb $sbk $sbn $scb $scm $accum $ws"),
    locals: i32("$bi $jc $nc $pc $kc $ic $mc $ir $jr $ab $bb $cb $first $i $j $p"),
    body: `
      local.get $batch i32.eqz local.get $M i32.eqz i32.or local.get $N i32.eqz i32.or
      if return end
      local.get $ws f32.const 0 f32.store offset=${ZERO}
      ;; K == 0: the product is zero
      local.get $K i32.eqz
      if
        local.get $accum if return end
        ${forRange(
          "$bi",
          "local.get $batch",
          `${forRange(
            "$i",
            "local.get $M",
            `${forRange(
              "$j",
              "local.get $N",
              `local.get $c local.get $bi local.get $scb i32.mul local.get $i local.get $scm i32.mul i32.add
               local.get $j i32.add i32.const 2 i32.shl i32.add f32.const 0 f32.store`,
            )}`,
          )}`,
        )}
        return
      end
      ${forRange(
        "$bi",
        "local.get $batch",
        `
        local.get $a local.get $bi local.get $sab i32.mul i32.const 2 i32.shl i32.add local.set $ab
        local.get $b local.get $bi local.get $sbb i32.mul i32.const 2 i32.shl i32.add local.set $bb
        local.get $c local.get $bi local.get $scb i32.mul i32.const 2 i32.shl i32.add local.set $cb
        i32.const 0 local.set $jc
        loop $jcl
          ${min(`i32.const ${NC}`, "local.get $N local.get $jc i32.sub")} local.set $nc
          i32.const 0 local.set $pc
          loop $pcl
            ${min(`i32.const ${KC}`, "local.get $K local.get $pc i32.sub")} local.set $kc
            local.get $bb local.get $pc local.get $sbk i32.mul local.get $jc local.get $sbn i32.mul i32.add
            i32.const 2 i32.shl i32.add
            local.get $kc local.get $nc local.get $sbk local.get $sbn
            local.get $ws i32.const ${PACK_B} i32.add local.get $ws i32.const ${ZERO} i32.add
            call $packB
            ;; a batch stride of 0 on c sums the batches into one matrix
            local.get $pc i32.eqz local.get $accum i32.eqz i32.and
            local.get $bi i32.eqz local.get $scb i32.const 0 i32.ne i32.or i32.and local.set $first
            i32.const 0 local.set $ic
            loop $icl
              ${min(`i32.const ${MC}`, "local.get $M local.get $ic i32.sub")} local.set $mc
              local.get $ab local.get $ic local.get $sam i32.mul local.get $pc local.get $sak i32.mul i32.add
              i32.const 2 i32.shl i32.add
              local.get $mc local.get $kc local.get $sam local.get $sak
              local.get $ws i32.const ${PACK_A} i32.add local.get $ws i32.const ${ZERO} i32.add
              call $packA
              i32.const 0 local.set $jr
              loop $jrl
                i32.const 0 local.set $ir
                loop $irl
                  local.get $ws i32.const ${PACK_A} i32.add local.get $ir local.get $kc i32.mul i32.const 2 i32.shl i32.add
                  local.get $ws i32.const ${PACK_B} i32.add local.get $jr local.get $kc i32.mul i32.const 2 i32.shl i32.add
                  local.get $kc
                  local.get $cb local.get $ic local.get $ir i32.add local.get $scm i32.mul
                  local.get $jc i32.add local.get $jr i32.add i32.const 2 i32.shl i32.add
                  local.get $scm i32.const 2 i32.shl
                  ${min(`i32.const ${MR}`, "local.get $mc local.get $ir i32.sub")}
                  ${min(`i32.const ${NR}`, "local.get $nc local.get $jr i32.sub")}
                  local.get $first
                  local.get $ws i32.const ${TMP} i32.add
                  call $kern
                  local.get $ir i32.const ${MR} i32.add local.tee $ir local.get $mc i32.lt_s br_if $irl
                end
                local.get $jr i32.const ${NR} i32.add local.tee $jr local.get $nc i32.lt_s br_if $jrl
              end
              local.get $ic i32.const ${MC} i32.add local.tee $ic local.get $M i32.lt_s br_if $icl
            end
            local.get $pc i32.const ${KC} i32.add local.tee $pc local.get $K i32.lt_s br_if $pcl
          end
          local.get $jc i32.const ${NC} i32.add local.tee $jc local.get $N i32.lt_s br_if $jcl
        end`,
      )}`,
  };
}

/** packA(src, mc, kc, sam, sak, dst, zero): rows of A into MR-row panels, k-major, zero-padded. */
function packA(): FuncSource {
  const rows = [0, 1, 2, 3];
  const ptrs = rows.map((r) => `$p${r}`);
  const steps = rows.map((r) => `$s${r}`);
  return {
    name: "packA",
    export: false,
    params: [
      ["$src", "i32"],
      ["$mc", "i32"],
      ["$kc", "i32"],
      ["$sam", "i32"],
      ["$sak", "i32"],
      ["$dst", "i32"],
      ["$zero", "i32"],
    ],
    locals: [
      ["$i0", "i32"],
      ["$k", "i32"],
      ...ptrs.map((p): [string, "i32"] => [p, "i32"]),
      ...steps.map((s): [string, "i32"] => [s, "i32"]),
    ],
    body: `
      i32.const 0 local.set $i0
      loop $panel
        ${rows
          .map(
            (r) => `
        local.get $i0 i32.const ${r} i32.add local.get $mc i32.lt_s
        if
          local.get $src local.get $i0 i32.const ${r} i32.add local.get $sam i32.mul i32.const 2 i32.shl i32.add local.set $p${r}
          local.get $sak i32.const 2 i32.shl local.set $s${r}
        else
          local.get $zero local.set $p${r}
          i32.const 0 local.set $s${r}
        end`,
          )
          .join("\n")}
        local.get $kc local.set $k
        local.get $sam i32.const 1 i32.eq local.get $i0 i32.const ${MR} i32.add local.get $mc i32.le_s i32.and
        if
          ;; A read transposed (its rows adjacent in memory): one vector copy per k
          loop $kv
            local.get $dst local.get $p0 v128.load v128.store
            local.get $p0 local.get $s0 i32.add local.set $p0
            local.get $dst i32.const 16 i32.add local.set $dst
            local.get $k i32.const 1 i32.sub local.tee $k br_if $kv
          end
        else
          loop $kl
            ${rows
              .map(
                (r) => `
            local.get $dst local.get $p${r} f32.load f32.store offset=${r * 4}
            local.get $p${r} local.get $s${r} i32.add local.set $p${r}`,
              )
              .join("\n")}
            local.get $dst i32.const 16 i32.add local.set $dst
            local.get $k i32.const 1 i32.sub local.tee $k br_if $kl
          end
        end
        local.get $i0 i32.const ${MR} i32.add local.tee $i0 local.get $mc i32.lt_s br_if $panel
      end`,
  };
}

/** packB(src, kc, nc, sbk, sbn, dst, zero): columns of B into NR-column panels, k-major, zero-padded. */
function packB(): FuncSource {
  const cols = [0, 1, 2, 3, 4, 5, 6, 7];
  return {
    name: "packB",
    export: false,
    params: [
      ["$src", "i32"],
      ["$kc", "i32"],
      ["$nc", "i32"],
      ["$sbk", "i32"],
      ["$sbn", "i32"],
      ["$dst", "i32"],
      ["$zero", "i32"],
    ],
    locals: [
      ["$j0", "i32"],
      ["$k", "i32"],
      ["$p", "i32"],
      ["$row", "i32"],
      ...cols.map((c): [string, "i32"] => [`$q${c}`, "i32"]),
      ...cols.map((c): [string, "i32"] => [`$t${c}`, "i32"]),
    ],
    body: `
      local.get $sbk i32.const 2 i32.shl local.set $row
      i32.const 0 local.set $j0
      loop $panel
        local.get $src local.get $j0 local.get $sbn i32.mul i32.const 2 i32.shl i32.add local.set $p
        local.get $kc local.set $k
        local.get $sbn i32.const 1 i32.eq local.get $j0 i32.const ${NR} i32.add local.get $nc i32.le_s i32.and
        if
          ;; contiguous full panel: two vector copies per k
          loop $fast
            local.get $dst local.get $p v128.load v128.store
            local.get $dst local.get $p v128.load offset=16 v128.store offset=16
            local.get $p local.get $row i32.add local.set $p
            local.get $dst i32.const 32 i32.add local.set $dst
            local.get $k i32.const 1 i32.sub local.tee $k br_if $fast
          end
        else
          ;; strided or partial panel: a pointer per column, the zero slot past the edge
          ${cols
            .map(
              (c) => `
          local.get $p local.get $sbn i32.const ${c * 4} i32.mul i32.add
          local.get $zero
          local.get $j0 i32.const ${c} i32.add local.get $nc i32.lt_s
          select local.set $q${c}
          local.get $row i32.const 0 local.get $j0 i32.const ${c} i32.add local.get $nc i32.lt_s i32.sub i32.and
          local.set $t${c}`,
            )
            .join("")}
          loop $slow
            ${cols
              .map(
                (c) => `
            local.get $dst local.get $q${c} f32.load f32.store offset=${c * 4}
            local.get $q${c} local.get $t${c} i32.add local.set $q${c}`,
              )
              .join("")}
            local.get $dst i32.const 32 i32.add local.set $dst
            local.get $k i32.const 1 i32.sub local.tee $k br_if $slow
          end
        end
        local.get $j0 i32.const ${NR} i32.add local.tee $j0 local.get $nc i32.lt_s br_if $panel
      end`,
  };
}

/**
 * kern(ap, bp, kc, cp, ldc, mr, nr, first, tmp): the 4×8 tile at cp (row stride ldc bytes) gets
 * Σ_k ap[k]ᵀ·bp[k], stored when `first` and added otherwise; edge tiles (mr < 4 or nr < 8) go
 * through tmp.
 */
function microKernel(madd: Madd): FuncSource {
  const acc = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `$c${i}`);
  const rows = [0, 1, 2, 3];
  const step = rows
    .map(
      (r) => `
      local.get $ap v128.load32_splat offset=${r * 4} local.set $va
      ${madd("$va", "$b0", `$c${2 * r}`)}
      ${madd("$va", "$b1", `$c${2 * r + 1}`)}`,
    )
    .join("");
  const storeFull = (add: boolean) =>
    rows
      .map(
        (r) =>
          [0, 1]
            .map(
              (h) => `
      local.get $cp ${
        add
          ? `local.get $cp v128.load offset=${h * 16} local.get $c${2 * r + h} f32x4.add`
          : `local.get $c${2 * r + h}`
      } v128.store offset=${h * 16}`,
            )
            .join("") + "\n      local.get $cp local.get $ldc i32.add local.set $cp",
      )
      .join("");
  return {
    name: "kern",
    export: false,
    params: [
      ["$ap", "i32"],
      ["$bp", "i32"],
      ["$kc", "i32"],
      ["$cp", "i32"],
      ["$ldc", "i32"],
      ["$mr", "i32"],
      ["$nr", "i32"],
      ["$first", "i32"],
      ["$tmp", "i32"],
    ],
    locals: [
      ...acc.map((a): [string, "v128"] => [a, "v128"]),
      ["$va", "v128"],
      ["$b0", "v128"],
      ["$b1", "v128"],
      ["$r", "i32"],
      ["$j", "i32"],
      ["$q", "i32"],
    ],
    body: `
      loop $k
        local.get $bp v128.load local.set $b0
        local.get $bp v128.load offset=16 local.set $b1
        ${step}
        local.get $ap i32.const 16 i32.add local.set $ap
        local.get $bp i32.const 32 i32.add local.set $bp
        local.get $kc i32.const 1 i32.sub local.tee $kc br_if $k
      end
      local.get $mr i32.const ${MR} i32.eq local.get $nr i32.const ${NR} i32.eq i32.and
      if
        local.get $first
        if ${storeFull(false)}
        else ${storeFull(true)}
        end
        return
      end
      ${acc.map((a, i) => `local.get $tmp ${`local.get ${a}`} v128.store offset=${i * 16}`).join("\n")}
      i32.const 0 local.set $r
      loop $rows
        i32.const 0 local.set $j
        loop $cols
          local.get $cp local.get $j i32.const 2 i32.shl i32.add local.set $q
          local.get $q
          local.get $tmp local.get $r i32.const 5 i32.shl i32.add local.get $j i32.const 2 i32.shl i32.add f32.load
          f32.const 0 local.get $q f32.load local.get $first select f32.add
          f32.store
          local.get $j i32.const 1 i32.add local.tee $j local.get $nr i32.lt_s br_if $cols
        end
        local.get $cp local.get $ldc i32.add local.set $cp
        local.get $r i32.const 1 i32.add local.tee $r local.get $mr i32.lt_s br_if $rows
      end`,
  };
}
