// Paired bootstrap 95% interval of accuracy(g_φ at τ) − accuracy(always deep), from `eval hsr-ee`'s trials.jsonl.
import { readFileSync } from "node:fs";

const [file, ...taus] = process.argv.slice(2);
const rows = readFileSync(file, "utf8").trim().split("\n").map(JSON.parse);
let seed = 1;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
for (const tau of taus.map(Number)) {
  const d = rows.map((r) => {
    const k = r.steps.findIndex((s) => s.g_phi >= tau);
    return (k < 0 ? r.deep_correct : r.steps[k].correct) - r.deep_correct;
  });
  const means = [];
  for (let b = 0; b < 2000; b++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[Math.floor(rand() * d.length)];
    means.push(s / d.length);
  }
  means.sort((a, b) => a - b);
  const pt = (x) => (100 * x).toFixed(1);
  console.log(
    `τ=${tau}: ${pt(d.reduce((a, b) => a + b, 0) / d.length)} points [${pt(means[50])}, ${pt(means[1949])}]`,
  );
}
