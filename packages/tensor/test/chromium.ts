// Runs a bundled test page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core,
// never a downloaded browser) on a loopback server, and returns what the page left in `window.__results`.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { describe } from "vitest";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const present = existsSync(CHROMIUM);

/** Flags for headless Chromium without a sandbox or network chatter. */
const BASE_FLAGS = [
  "--no-sandbox",
  "--disable-gpu-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--headless=new",
];

/**
 * A describe that skips with the reason when Chromium is absent, except under CI=true, where the
 * suite runs and `requireChromium` fails it: the browser check always runs in CI.
 */
export function describeInChromium(title: string, body: () => void): void {
  const ci = process.env.CI === "true";
  if (present || ci) describe(title, body);
  else describe.skip(`${title} (skipped: ${CHROMIUM} not found; apt-get install -y chromium)`, body);
}

/** Throws the CI failure when Chromium is absent. */
export function requireChromium(): void {
  if (!present)
    throw new Error(`chromium is required in CI: ${CHROMIUM} not found (apt-get install -y chromium)`);
}

/** Options of one page run. */
export interface PageRun {
  /** The page's entry module (bundled with esbuild for the browser). */
  entry: string;
  /** Extra Chromium flags (e.g. --enable-unsafe-webgpu). */
  flags?: string[];
  /** Extra response headers (e.g. COOP/COEP for cross-origin isolation). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Bundles and serves the page, loads it in Chromium, and returns its results, the bundle and the console log. */
export async function runPageInChromium<T>(
  opts: PageRun,
): Promise<{ results: T; js: string; logs: string[] }> {
  requireChromium();
  const bundle = await build({
    entryPoints: [opts.entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const js = bundle.outputFiles[0].text;
  const html = '<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>';
  const headers = opts.headers ?? {};
  const server = createServer((req, res) => {
    if (req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript", ...headers });
      res.end(js);
    } else if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html", ...headers });
      res.end(html);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const profile = mkdtempSync(join(tmpdir(), "sr2se-chromium-"));
  try {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const { chromium } = await import("playwright-core");
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...BASE_FLAGS, ...(opts.flags ?? [])],
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
          timeout: opts.timeoutMs ?? 200_000,
        },
      );
      const results = (await page.evaluate(
        () => (window as unknown as { __results: unknown }).__results,
      )) as T;
      return { results, js, logs };
    } finally {
      await context.close();
    }
  } finally {
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
