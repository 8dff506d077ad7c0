// Per family: where g_φ lets the answer out at τ (trials.jsonl of `eval hsr-ee`): step 0, in the description, in the reasoning, or not at all (always deep).
import { readFileSync } from "node:fs";

const [file, tauArg] = process.argv.slice(2);
const tau = Number(tauArg);
const rows = readFileSync(file, "utf8").trim().split("\n").map(JSON.parse);
const fam = {};
for (const r of rows) {
  const k = r.steps.findIndex((s) => s.g_phi >= tau);
  const where = k < 0 ? "deep" : r.steps[k].part;
  const f = (fam[r.family] ??= { n: 0, answer: 0, description: 0, think: 0, deep: 0 });
  f.n++;
  f[where]++;
}
console.log("| family | n | step 0 | in the description | in the reasoning | no exit (deep) |");
console.log("|---|---|---|---|---|---|");
for (const [f, c] of Object.entries(fam).sort())
  console.log(
    `| ${f} | ${c.n} | ${[c.answer, c.description, c.think, c.deep].map((x) => `${Math.round((100 * x) / c.n)}%`).join(" | ")} |`,
  );
