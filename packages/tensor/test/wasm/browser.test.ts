// Browser check: the fast CPU backend bundled for the browser runs its kernels on Web Workers in
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) on a loopback page served
// cross-origin isolated (COOP/COEP), which shared WebAssembly memory requires.
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
  ? "cpu-wasm in headless chromium"
  : `cpu-wasm in headless chromium (skipped: ${CHROMIUM} not found; apt-get install -y chromium)`;
const run = present || ci ? describe : describe.skip;

/** Flags for headless Chromium without a sandbox or network chatter. */
const FLAGS = [
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

  it("runs the kernels on Web Workers in a cross-origin isolated page and matches the reference", {
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
    const html =
      '<!doctype html><meta charset="utf-8"><title>cpu-wasm check</title><script type="module" src="/page.js"></script>';
    // SharedArrayBuffer (shared WebAssembly memory) exists only in cross-origin isolated pages.
    const isolation = {
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    };
    server = createServer((req, res) => {
      if (req.url === "/page.js") {
        res.writeHead(200, { "content-type": "text/javascript", ...isolation });
        res.end(js);
      } else if (req.url === "/" || req.url === "/index.html") {
        res.writeHead(200, { "content-type": "text/html", ...isolation });
        res.end(html);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    profile = mkdtempSync(join(tmpdir(), "sr2se-chromium-wasm-"));
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
        isolated?: boolean;
        threads?: number;
        cases?: { name: string; error: number }[];
        error?: string;
      };
      expect(results.error, `page error: ${results.error}\n${logs.join("\n")}`).toBeUndefined();
      expect(results.isolated).toBe(true);
      expect(results.threads).toBe(2);
      expect(results.cases?.length).toBe(4);
      for (const c of results.cases ?? []) expect(c.error, c.name).toBeLessThan(1e-4);
    } finally {
      await context.close();
    }
  });
});
