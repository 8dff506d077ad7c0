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
