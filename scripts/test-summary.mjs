// Sums the vitest JSON reports of every package into the plain line "N passed, M failed".
// A package with a test script that left no report (its run crashed, or found no tests) counts as one failure.
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const pkgsDir = path.join(root, "packages");
let passed = 0;
let failed = 0;
const rows = [];
for (const name of fs.readdirSync(pkgsDir).sort()) {
  const dir = path.join(pkgsDir, name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  if (!pkg.scripts?.test) continue;
  const report = path.join(dir, "test-results.json");
  if (!fs.existsSync(report)) {
    rows.push(`${name}: no report (the test run did not finish)`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(fs.readFileSync(report, "utf8"));
  const p = r.numPassedTests ?? 0;
  const f =
    (r.numFailedTests ?? 0) +
    (r.testResults ?? []).filter((t) => t.status === "failed" && t.assertionResults?.length === 0).length;
  const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  rows.push(`${name}: ${p} passed, ${f} failed, ${s} skipped`);
  passed += p;
  failed += f;
}
for (const row of rows) console.log(row);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
