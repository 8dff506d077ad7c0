// Browser check: the WebGPU backend bundled for the browser runs the representative cases in
// headless Chromium on a loopback page (Chromium's SwiftShader adapter: no shader-f16, subgroup
// size 4). Skipped with the reason when chromium is absent; under CI=true its absence fails.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { describeInChromium, runPageInChromium } from "../chromium.js";

describeInChromium("webgpu in headless chromium", () => {
  it("runs the representative op cases against the CPU reference and passes", {
    timeout: 240_000,
  }, async () => {
    const { results, js, logs } = await runPageInChromium<{
      error?: string;
      adapter?: {
        isFallbackAdapter: boolean;
        description: string;
        vendor: string;
        matmulVariant: string;
        subgroupSize: number | null;
      };
      features?: string[];
      cases?: { name: string; error: number; tol: number; ok: boolean; message?: string }[];
    }>({ entry: fileURLToPath(new URL("./page.ts", import.meta.url)), flags: ["--enable-unsafe-webgpu"] });
    expect(js).not.toMatch(/dawn\.node/);
    expect(results.error, `page error: ${results.error}\n${logs.join("\n")}`).toBeUndefined();
    const failed = (results.cases ?? []).filter((c) => !c.ok);
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    expect(results.cases?.length).toBeGreaterThanOrEqual(15);
    const a = results.adapter;
    console.log(
      `chromium adapter: ${a?.vendor} ${a?.description} (fallback ${a?.isFallbackAdapter}, matmul ${a?.matmulVariant}, subgroup size ${a?.subgroupSize}); shader-f16: ${results.features?.includes("shader-f16")}; ${results.cases?.length} cases passed`,
    );
  });
});
