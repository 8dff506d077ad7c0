// Throughput of the MathVista and MM-Vet scorers (no network: rules only / the shapes judge).
// Run (the bundle must sit inside the package so @sr2se/core resolves; dist/ is git-ignored):
//   npx esbuild packages/eval/scripts/mathvista_mmvet_bench.ts --bundle --platform=node --format=esm \
//     --external:@sr2se/core --outfile=packages/eval/dist/bench-mathvista-mmvet.mjs \
//     && node packages/eval/dist/bench-mathvista-mmvet.mjs [out.json]
import { writeFileSync } from "node:fs";
import { Rng } from "@sr2se/core";
import { type MathVistaProblem, scoreMathVista } from "../src/mathvista/index.js";
import { ShapesWorldJudge, scoreMmVet } from "../src/mmvet/index.js";

const rng = new Rng(8);
const N = 20_000;
const problems: MathVistaProblem[] = [];
const predictions: { id: string; response: string }[] = [];
for (let i = 0; i < N; i++) {
  const kind = i % 3;
  const pid = String(i + 1);
  const meta = {
    task: `task${i % 5}`,
    skills: [`skill${i % 7}`, `skill${i % 3}`],
    grade: "g",
    language: "english",
  };
  if (kind === 0) {
    const choices = ["3/11", "8/11", "6/11", "3/5", "a longer choice text"];
    problems.push({
      pid,
      question: "q",
      choices,
      answer: choices[i % 5],
      question_type: "multi_choice",
      answer_type: "text",
      metadata: meta,
    });
    predictions.push({
      id: pid,
      response: rng.bool() ? (choices[rng.int(0, 5)] as string) : "I think (b) is right",
    });
  } else if (kind === 1) {
    problems.push({
      pid,
      question: "q",
      choices: null,
      answer: String(i % 50),
      question_type: "free_form",
      answer_type: "integer",
      metadata: meta,
    });
    predictions.push({ id: pid, response: String(rng.int(0, 50)) });
  } else {
    problems.push({
      pid,
      question: "q",
      choices: null,
      answer: "1.25",
      precision: 2,
      question_type: "free_form",
      answer_type: "float",
      metadata: meta,
    });
    predictions.push({ id: pid, response: rng.float(0, 3).toString() });
  }
}
let t = performance.now();
const mv = await scoreMathVista(problems, predictions, { quickExtract: true });
const mathvistaMs = performance.now() - t;

const M = 5_000;
const RUNS = 5;
const samples = Array.from({ length: M }, (_, i) => ({
  id: `v1_${i}`,
  question: "What objects are in the image?",
  answer: "red circle <AND> blue star <AND> green square",
  capability: i % 2 ? ["rec"] : ["rec", "spat"],
}));
const answers = samples.map((s, i) => ({
  id: s.id,
  response: i % 3 ? "a red circle and a blue star" : "a pink hexagon",
}));
t = performance.now();
const mm = await scoreMmVet(samples, answers, { judge: new ShapesWorldJudge(), runs: RUNS });
const mmvetMs = performance.now() - t;

const figures = {
  mathvista: {
    problems: N,
    ms: Math.round(mathvistaMs),
    problemsPerSecond: Math.round(N / (mathvistaMs / 1000)),
    accuracy: mv.headline.value,
  },
  mmvet: {
    samples: M,
    runs: RUNS,
    ms: Math.round(mmvetMs),
    gradesPerSecond: Math.round((M * RUNS) / (mmvetMs / 1000)),
    total: mm.capabilities.total.score,
  },
};
console.log(JSON.stringify(figures, null, 2));
if (process.argv[2]) writeFileSync(process.argv[2], `${JSON.stringify(figures, null, 2)}\n`);
