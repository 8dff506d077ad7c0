import { registerBackend } from "./registry.js";

// The built-in backends, each loaded lazily through a dynamic import so that CPU users never load
// Dawn and WebGPU users never compile WebAssembly. Part 2 (WebGPU) and part 3 (fast CPU) add their
// one line here; their module exports `createBackend(options): Promise<Backend>`.
registerBackend("cpu", "cpu", async () => (await import("./cpu/index.js")).referenceBackend(), 20);
registerBackend(
  "webgpu",
  "webgpu",
  async (opts) => (await import("./webgpu/index.js")).createBackend(opts),
  10,
);
registerBackend("cpu-wasm", "cpu", async (opts) => (await import("./wasm/index.js")).createBackend(opts), 10);
