// Choosing where the model runs: the fastest registered backend of a device. The CPU reference
// backend is what @sr2se/tensor starts with; a VLM prefers the WebAssembly SIMD one when it loads.
import { defaultBackend, init } from "@sr2se/tensor";

/**
 * Makes the fastest backend of `device` the default and returns its name. Without a device, only
 * moves off the plain reference backend (to the best CPU one), and leaves any other choice alone.
 */
export async function useFastestBackend(device?: "cpu" | "webgpu"): Promise<string> {
  if (device) return (await init({ device })).name;
  if (defaultBackend().name === "cpu" && !process.env.SR2SE_CPU_BACKEND) {
    try {
      await init({ device: "cpu" });
    } catch {
      // only the reference backend is registered: stay on it
    }
  }
  return defaultBackend().name;
}
