// Browser check: the WebGPU backend bundled for the browser runs the representative cases in
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) on a loopback page.
// Skipped with the reason when chromium is absent; under CI=true its absence fails.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const present = existsSync(CHROMIUM);
const ci = process.env.CI === "true";
const title = present
  ? "webgpu in headless chromium"
  : `webgpu in headless chromium (skipped: ${CHROMIUM} not found; apt-get install -y chromium)`;
const run = present || ci ? describe : describe.skip;

/** Flags that give headless Chromium a WebGPU adapter (SwiftShader) without a GPU or sandbox. */
const FLAGS = [
  "--enable-unsafe-webgpu",
  "--no-sandbox",
  "--disable-gpu-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--headless=new",
];

run(title, () => {
  let server: Server | undefined;
  let profile: string | undefined;
  afterAll(() => {
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("runs the representative op cases against the CPU reference and passes", {
    timeout: 240_000,
  }, async () => {
    if (!present)
      throw new Error(`chromium is required in CI: ${CHROMIUM} not found (apt-get install -y chromium)`);
    const entry = fileURLToPath(new URL("./page.ts", import.meta.url));
    const bundle = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    const js = bundle.outputFiles[0].text;
    expect(js).not.toMatch(/dawn\.node/);
    const html =
      '<!doctype html><meta charset="utf-8"><title>webgpu check</title><script type="module" src="/page.js"></script>';
    server = createServer((req, res) => {
      if (req.url === "/page.js") {
        res.writeHead(200, { "content-type": "text/javascript" });
        res.end(js);
      } else if (req.url === "/" || req.url === "/index.html") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(html);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    profile = mkdtempSync(join(tmpdir(), "sr2se-chromium-"));
    const { chromium } = await import("playwright-core");
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
    });
    try {
      const page = await context.newPage();
      const logs: string[] = [];
      page.on("console", (m) => logs.push(m.text()));
      page.on("pageerror", (e) => logs.push(String(e)));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(
        () => (window as unknown as { __results?: unknown }).__results !== undefined,
        null,
        {
          timeout: 200_000,
        },
      );
      const results = (await page.evaluate(
        () => (window as unknown as { __results: unknown }).__results,
      )) as {
        error?: string;
        adapter?: { isFallbackAdapter: boolean; description: string; vendor: string };
        features?: string[];
        cases?: { name: string; error: number; tol: number; ok: boolean; message?: string }[];
      };
      expect(results.error, `page error: ${results.error}\n${logs.join("\n")}`).toBeUndefined();
      const failed = (results.cases ?? []).filter((c) => !c.ok);
      expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
      expect(results.cases?.length).toBeGreaterThanOrEqual(15);
      const a = results.adapter;
      console.log(
        `chromium adapter: ${a?.vendor} ${a?.description} (fallback ${a?.isFallbackAdapter}); shader-f16: ${results.features?.includes("shader-f16")}; ${results.cases?.length} cases passed`,
      );
    } finally {
      await context.close();
    }
  });
});
