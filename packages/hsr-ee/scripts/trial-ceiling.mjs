// What any gate could reach on `eval hsr-ee`'s trials.jsonl: the accuracy of the trial answers by part of the
// response, and two oracles: exit at the first right trial (it collects lucky guesses), and exit at the first
// step from which every later trial and the whole answer are right (never loses a right answer).
import { readFileSync } from "node:fs";

const rows = readFileSync(process.argv[2], "utf8").trim().split("\n").map(JSON.parse);
const n = rows.length;
let firstTokens = 0;
let firstRight = 0;
let stableTokens = 0;
let deepRight = 0;
let deepTokens = 0;
const parts = {};
for (const r of rows) {
  const s = r.steps;
  deepTokens += r.tokens;
  deepRight += r.deep_correct ? 1 : 0;
  const k = s.findIndex((x) => x.correct);
  firstRight += k >= 0 || r.deep_correct ? 1 : 0;
  firstTokens += k >= 0 ? s[k].tokens : r.tokens;
  if (r.deep_correct) {
    let j = s.length - 1;
    while (j > 0 && s[j - 1].correct) j--;
    stableTokens += s[j].tokens;
  } else stableTokens += r.tokens;
  for (const x of s) {
    parts[x.part] ??= [0, 0];
    parts[x.part][0] += x.correct ? 1 : 0;
    parts[x.part][1]++;
  }
  const afterDescription = s.filter((x) => x.part === "description").at(-1);
  if (afterDescription) {
    parts["after the whole description"] ??= [0, 0];
    parts["after the whole description"][0] += afterDescription.correct ? 1 : 0;
    parts["after the whole description"][1]++;
  }
}
const pct = (x) => `${(100 * x).toFixed(1)}%`;
console.log(`always deep: ${pct(deepRight / n)} at ${(deepTokens / n).toFixed(1)} tokens`);
console.log(`first right trial: ${pct(firstRight / n)} at ${(firstTokens / n).toFixed(1)} tokens`);
console.log(`stable right from there on: ${pct(deepRight / n)} at ${(stableTokens / n).toFixed(1)} tokens`);
for (const [p, [a, m]] of Object.entries(parts)) console.log(`trials ${p}: ${pct(a / m)} right (${m})`);
