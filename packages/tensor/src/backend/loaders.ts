import { registerBackend } from "./registry.js";

/**
 * Registers the built-in backends (device.ts calls it once when it loads); returns nothing. Each is
 * loaded lazily through a dynamic import, so CPU users never load Dawn and WebGPU users never compile
 * WebAssembly; each module exports `createBackend(options): Promise<Backend>`. A call rather than
 * top-level statements, so that bundlers honouring `sideEffects` keep it.
 */
export function registerBuiltinBackends(): void {
  registerBackend("cpu", "cpu", async () => (await import("./cpu/index.js")).referenceBackend(), 20);
  registerBackend(
    "webgpu",
    "webgpu",
    async (opts) => (await import("./webgpu/index.js")).createBackend(opts),
    10,
  );
  registerBackend(
    "cpu-wasm",
    "cpu",
    async (opts) => (await import("./wasm/index.js")).createBackend(opts),
    10,
  );
}
