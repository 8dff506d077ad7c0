import { registerBackend } from "./registry.js";

// The built-in backends, each loaded lazily through a dynamic import so that CPU users never load
// Dawn and WebGPU users never compile WebAssembly. Part 2 (WebGPU) and part 3 (fast CPU) add their
// one line here; their module exports `createBackend(options): Promise<Backend>`.
registerBackend("cpu", "cpu", async () => new (await import("./cpu/index.js")).CpuBackend(), 20);
