// Browser check: the fast CPU backend bundled for the browser runs its kernels on Web Workers in
// headless Chromium on a loopback page served cross-origin isolated (COOP/COEP), which shared
// WebAssembly memory requires. Skipped with the reason when chromium is absent; under CI=true its
// absence fails.
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { describeInChromium, runPageInChromium } from "../chromium.js";

describeInChromium("cpu-wasm in headless chromium", () => {
  it("runs the kernels on Web Workers in a cross-origin isolated page and matches the reference", {
    timeout: 240_000,
  }, async () => {
    const { results, logs } = await runPageInChromium<{
      isolated?: boolean;
      threads?: number;
      cases?: { name: string; error: number }[];
      error?: string;
    }>({
      entry: fileURLToPath(new URL("./page.ts", import.meta.url)),
      // SharedArrayBuffer (shared WebAssembly memory) exists only in cross-origin isolated pages.
      headers: {
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
      },
    });
    expect(results.error, `page error: ${results.error}\n${logs.join("\n")}`).toBeUndefined();
    expect(results.isolated).toBe(true);
    expect(results.threads).toBe(2);
    expect(results.cases?.length).toBe(4);
    for (const c of results.cases ?? []) expect(c.error, c.name).toBeLessThan(1e-4);
  });
});
