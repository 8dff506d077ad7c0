/**
 * Helpers that write recurring text-format fragments, so kernels read as loops rather than stack
 * shuffles. Each returns flat instructions for `assembler.ts`.
 */

/** Emits c ← a·b + c for f32x4 locals: one fused relaxed_madd, or mul then add. */
export type Madd = (a: string, b: string, c: string) => string;

/** Returns the mul+add form of Madd (exact IEEE rounding of each step; runs everywhere). */
export const mulAdd: Madd = (a, b, c) =>
  `local.get ${a} local.get ${b} f32x4.mul local.get ${c} f32x4.add local.set ${c}`;

/** Returns the relaxed-SIMD form of Madd (fused where the hardware has FMA). */
export const relaxedMadd: Madd = (a, b, c) =>
  `local.get ${a} local.get ${b} local.get ${c} f32x4.relaxed_madd local.set ${c}`;

/** Returns instructions leaving min(a, b) (signed i32) on the stack; a and b are instruction fragments. */
export function min(a: string, b: string): string {
  return `${a} ${b} ${a} ${b} i32.lt_s select`;
}

let labelCounter = 0;

/** Returns a loop running `body` for `v` = 0 … limit−1 (i32 local v; nothing runs when limit ≤ 0). */
export function forRange(v: string, limit: string, body: string): string {
  const id = `$for${labelCounter++}`;
  return `
    i32.const 0 local.set ${v}
    block ${id}_out
      local.get ${v} ${limit} i32.ge_s br_if ${id}_out
      loop ${id}
        ${body}
        local.get ${v} i32.const 1 i32.add local.tee ${v} ${limit} i32.lt_s br_if ${id}
      end
    end`;
}

/** Vector or scalar-tail forms of the memory and accumulate steps of `simdLoop`'s body. */
export interface LaneOps {
  /** Loads 4 floats (vector pass) or splats 1 (tail) from the byte address the fragment leaves. */
  load(addr: string): string;
  /** Stores the v128 `value` fragment: 4 lanes, or lane 0 in the tail. */
  store(addr: string, value: string): string;
  /** Adds the v128 fragment into accumulator `acc` (declare `acc` and `acc`_t as v128 locals). */
  accumulate(acc: string, value: string): string;
  /** Bytes one step covers (16 or 4). */
  bytes: number;
}

/**
 * Returns a loop over j = 0 … n−1 (i32 local j, bound fragment n) that runs `body` on 4 elements at a
 * time and then on the remaining 0–3 one at a time, with the same v128 arithmetic in lane 0.
 */
export function simdLoop(j: string, n: string, body: (ops: LaneOps) => string): string {
  const id = `$simd${labelCounter++}`;
  const vec: LaneOps = {
    load: (a) => `${a} v128.load`,
    store: (a, v) => `${a} ${v} v128.store`,
    accumulate: (acc, v) => `local.get ${acc} ${v} f32x4.add local.set ${acc}`,
    bytes: 16,
  };
  const tail: LaneOps = {
    load: (a) => `${a} v128.load32_splat`,
    store: (a, v) => `${a} ${v} f32x4.extract_lane 0 f32.store`,
    accumulate: (acc, v) => `local.get ${acc}_t ${v} f32x4.add local.set ${acc}_t`,
    bytes: 4,
  };
  return `
    i32.const 0 local.set ${j}
    block ${id}_vd loop ${id}_v
      local.get ${j} i32.const 4 i32.add ${n} i32.gt_s br_if ${id}_vd
      ${body(vec)}
      local.get ${j} i32.const 4 i32.add local.set ${j} br ${id}_v
    end end
    block ${id}_sd loop ${id}_s
      local.get ${j} ${n} i32.ge_s br_if ${id}_sd
      ${body(tail)}
      local.get ${j} i32.const 1 i32.add local.set ${j} br ${id}_s
    end end`;
}

/** Returns instructions leaving Σ of an accumulator pair (acc's 4 lanes + lane 0 of acc_t) as f32. */
export function accumulated(acc: string): string {
  return `local.get ${acc} f32x4.extract_lane 0 local.get ${acc} f32x4.extract_lane 1 f32.add
    local.get ${acc} f32x4.extract_lane 2 f32.add local.get ${acc} f32x4.extract_lane 3 f32.add
    local.get ${acc}_t f32x4.extract_lane 0 f32.add`;
}

/** Returns instructions zeroing accumulator pairs. */
export function zeroAccumulators(...accs: string[]): string {
  return accs.map((a) => `f32.const 0 f32x4.splat local.tee ${a} local.set ${a}_t`).join("\n");
}

/** Returns the byte address fragment base + j·4 (base and j i32 locals). */
export function at(base: string, j: string): string {
  return `local.get ${base} local.get ${j} i32.const 2 i32.shl i32.add`;
}
