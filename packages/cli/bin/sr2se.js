#!/usr/bin/env node
// Thin launcher so the `sr2se` bin exists before the first build; the program lives in dist/.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/bin.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    "sr2se: the CLI is not built yet; run `npm run build` in the repository root first.\n",
  );
  process.exit(1);
}
await import(entry.href);
