// The browser page's script: the WebGPU backend (bundled, on navigator.gpu) against the CPU
// reference, over the representative cases; results land on window.__results for the driver.
import { referenceBackend } from "../../src/backend/cpu/index.js";
import { createBackend } from "../../src/backend/webgpu/index.js";
import { runBrowserCases } from "./cases.js";

interface PageResults {
  adapter?: unknown;
  features?: string[];
  cases?: Awaited<ReturnType<typeof runBrowserCases>>;
  error?: string;
}

const w = window as unknown as { __results?: PageResults };
try {
  const gpu = await createBackend();
  const cases = await runBrowserCases(referenceBackend(), gpu);
  w.__results = { adapter: gpu.adapter, features: [...gpu.runtime.device.features], cases };
  gpu.dispose();
} catch (err) {
  w.__results = { error: String((err as Error).message ?? err) };
}
