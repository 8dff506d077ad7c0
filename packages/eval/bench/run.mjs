// Speed of the scorers on benchmark-sized inputs: node bench/run.mjs (after `npm run build`).
// Prints one line a case and writes bench-results/eval.json at the repository root.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "@sr2se/core";
import { compareResults, parseOpenResponse, scoreChair, scoreMmmu, scorePope } from "../dist/index.js";

const rng = new Rng(1);
const results = [];

function time(name, n, unit, fn) {
  fn(); // warm-up
  const reps = 3;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
  const row = { name, n, unit, ms: Number(ms.toFixed(2)), perSecond: Math.round((n / ms) * 1000) };
  results.push(row);
  console.log(
    `${name.padEnd(44)} ${String(n).padStart(7)} ${unit.padEnd(10)} ${row.ms.toFixed(2).padStart(9)} ms  ${row.perSecond.toLocaleString("en")} ${unit}/s`,
  );
}

// POPE: the full COCO benchmark, 3 splits × 3000 questions.
const splits = ["random", "popular", "adversarial"];
const popeQ = Array.from({ length: 9000 }, (_, i) => ({
  id: String(i),
  split: splits[i % 3],
  label: rng.bool() ? "yes" : "no",
}));
const answers = [
  "Yes, there is a dog in the image.",
  "No, there is no dog.",
  "Yes",
  "No",
  "There is not a dog in the image.",
];
const popeBase = popeQ.map((q) => ({ id: q.id, response: rng.choice(answers) }));
const popeOurs = popeQ.map((q) => ({
  id: q.id,
  response: rng.bool(0.8) ? (q.label === "yes" ? "Yes" : "No") : rng.choice(answers),
}));
time("scorePope (official)", 9000, "questions", () => scorePope(popeQ, popeBase));

// MMMU: the validation set's size (900), 60% multiple choice.
const subjects = ["Math", "Art", "Physics", "Accounting", "History", "Pharmacy"];
const mmmuQ = Array.from({ length: 900 }, (_, i) => {
  const mc = rng.bool(0.6);
  return {
    id: `validation_${rng.choice(subjects)}_${i}`,
    question_type: mc ? "multiple-choice" : "open",
    options: mc ? ["the first option", "the second option", "a third one", "and a fourth"] : undefined,
    answer: mc ? rng.choice(["A", "B", "C", "D"]) : String(rng.int(0, 100)),
  };
});
const mmmuP = mmmuQ.map((q) => ({
  id: q.id,
  response: q.options
    ? rng.choice([
        "The answer is (B).",
        "I think it is the second option, looking at the figure carefully.",
        "C",
        "unsure",
      ])
    : `Let us compute. The sum is 12 + 30 = 42.\nTherefore the final answer is ${rng.int(0, 100)}.`,
}));
time("scoreMmmu (official, parse and eval)", 900, "questions", () => scoreMmmu(mmmuQ, mmmuP));
const longOpen =
  "First, the area is 3.5 m^2. So the volume is 1,234.5 cubic units.\nThus the answer is 6.02e23 or 42.";
time("parseOpenResponse", 10000, "responses", () => {
  for (let i = 0; i < 10000; i++) parseOpenResponse(longOpen);
});

// CHAIR over 5000 shapes-world descriptions.
const shapes = ["circle", "square", "triangle", "diamond", "star", "hexagon"];
const colors = ["red", "green", "blue", "yellow", "purple", "orange", "pink", "brown"];
const chairData = Array.from({ length: 5000 }, (_, i) => ({
  id: `s${i}`,
  objects: Array.from({ length: 4 }, () => ({ shape: rng.choice(shapes), color: rng.choice(colors) })),
}));
const chairP = chairData.map((d) => ({
  id: d.id,
  response: `<description>${d.objects.map((o) => `A small ${o.color} ${o.shape} top-left.`).join(" ")} A ${rng.choice(colors)} ${rng.choice(shapes)}.</description>\\boxed{3}`,
}));
time("scoreChair", 5000, "responses", () => scoreChair(chairData, chairP));

// The comparison: 2000 paired resamples of the 9000 POPE questions.
const base = scorePope(popeQ, popeBase);
const ours = scorePope(popeQ, popeOurs);
time("compareResults (POPE F1, 2000 resamples)", 2000, "resamples", () =>
  compareResults([base], [ours], { iterations: 2000 }),
);

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const out = resolve(root, "bench-results/eval.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
);
console.log(`wrote ${out}`);
