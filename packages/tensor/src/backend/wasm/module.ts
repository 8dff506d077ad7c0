import { assemble, type FuncSource } from "./assembler.js";
import { elementwiseFuncs } from "./kernels/elementwise.js";
import { fusedFuncs } from "./kernels/fused.js";
import { matmulFuncs } from "./kernels/matmul.js";
import { reduceFuncs } from "./kernels/reduce.js";
import { rowFuncs } from "./kernels/rows.js";
import { type Madd, mulAdd, relaxedMadd } from "./kernels/text.js";
import { importNode } from "./node-builtin.js";

/** Pages (64 KiB) of the shared memory's address-space reservation: 4 GiB, the wasm32 limit. */
export const MAX_PAGES = 65536;

/** Returns every kernel function of the fast CPU backend, written with the given multiply-add. */
export function kernelFuncs(madd: Madd): FuncSource[] {
  return [...matmulFuncs(madd), ...rowFuncs(), ...elementwiseFuncs(), ...fusedFuncs(), ...reduceFuncs()];
}

/** Returns the binary of the kernel module (imports a shared `env.memory`). */
export function kernelBinary(relaxed: boolean): Uint8Array<ArrayBuffer> {
  return assemble({
    memory: { initial: 1, maximum: MAX_PAGES, shared: true },
    funcs: kernelFuncs(relaxed ? relaxedMadd : mulAdd),
  });
}

/** Returns whether this engine validates and correctly runs WebAssembly SIMD (128-bit). */
export function simdSupported(): boolean {
  if (typeof WebAssembly === "undefined" || typeof SharedArrayBuffer === "undefined") return false;
  try {
    const bin = assemble({
      memory: { initial: 1, maximum: 1, shared: true },
      funcs: [
        {
          name: "f",
          params: [],
          results: ["f32"],
          body: "f32.const 3 f32x4.splat f32.const 2 f32x4.splat f32x4.mul f32x4.extract_lane 1",
        },
      ],
    });
    if (!WebAssembly.validate(bin)) return false;
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bin), { env: { memory } });
    return (inst.exports.f as () => number)() === 6;
  } catch {
    return false;
  }
}

function relaxedProbe(): Uint8Array<ArrayBuffer> {
  return assemble({
    memory: { initial: 1, maximum: 1, shared: true },
    funcs: [
      {
        name: "f",
        params: [],
        results: ["f32"],
        body: "f32.const 3 f32x4.splat f32.const 2 f32x4.splat f32.const 1 f32x4.splat f32x4.relaxed_madd f32x4.extract_lane 2",
      },
    ],
  });
}

let relaxedCache: boolean | undefined;

/**
 * Returns whether `f32x4.relaxed_madd` is available. Node 20's V8 ships relaxed SIMD behind a flag,
 * so in Node the flag is set (before any kernel is compiled) and the probe retried; set
 * SR2SE_WASM_RELAXED=0 to keep the mul+add kernels.
 */
export async function relaxedSimdSupported(): Promise<boolean> {
  if (relaxedCache !== undefined) return relaxedCache;
  const env = typeof process !== "undefined" ? process.env : undefined;
  if (env?.SR2SE_WASM_RELAXED === "0") {
    relaxedCache = false;
    return false;
  }
  const probe = relaxedProbe();
  const works = (): boolean => {
    try {
      if (!WebAssembly.validate(probe)) return false;
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(probe), { env: { memory } });
      return (inst.exports.f as () => number)() === 7;
    } catch {
      return false;
    }
  };
  let ok = works();
  if (!ok && typeof process !== "undefined" && process.versions?.node) {
    try {
      const v8 = await importNode("node:v8");
      v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
      ok = works();
    } catch {
      ok = false;
    }
  }
  relaxedCache = ok;
  return ok;
}
