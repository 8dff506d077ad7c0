// Throughput of the GRPO objective on the built package, at a realistic micro-batch: 128 responses
// of 512 tokens. Usage: npm run bench -w @sr2se/rl   (writes bench/results.json)
import { writeFileSync } from "node:fs";
import { actorLoss, grpoOutcomeAdvantage } from "../dist/index.js";

const ROWS = 128;
const COLS = 512;
const rand = (() => {
  let s = 12345;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
})();
const matrix = (f) => Array.from({ length: ROWS }, (_, i) => Array.from({ length: COLS }, (_, j) => f(i, j)));
const lengths = Array.from({ length: ROWS }, () => 64 + Math.floor(rand() * (COLS - 64)));
const responseMask = matrix((i, j) => (j < lengths[i] ? 1 : 0));
const rewards = matrix((i, j) => (j === lengths[i] - 1 ? (rand() < 0.5 ? 1 : 0) : 0));
const index = Array.from({ length: ROWS }, (_, i) => `prompt-${i % 16}`); // rollout.n = 8
const oldLogProbs = matrix(() => -4 * rand());
const logProbs = oldLogProbs.map((row) => row.map((v) => v + 0.3 * (rand() - 0.5)));
const refLogProbs = logProbs.map((row) => row.map((v) => v + 0.2 * (rand() - 0.5)));
const advantages = grpoOutcomeAdvantage(rewards, responseMask, index);
const batch = { oldLogProbs, logProbs, refLogProbs, advantages, responseMask };

function time(name, run) {
  run(); // warm up
  const reps = 10;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) run();
  const ms = (performance.now() - t0) / reps;
  console.log(
    `${name.padEnd(32)} ${(1000 / ms).toFixed(1).padStart(7)} ops/s  (${ms.toFixed(1)} ms, ${ROWS} × ${COLS})`,
  );
  return { opsPerSecond: +(1000 / ms).toFixed(2), msPerOp: +ms.toFixed(2), rows: ROWS, tokens: COLS };
}

const results = {};
for (const dtype of ["float32", "float64"]) {
  results[`grpoOutcomeAdvantage ${dtype}`] = time(`grpoOutcomeAdvantage ${dtype}`, () =>
    grpoOutcomeAdvantage(rewards, responseMask, index, { dtype }),
  );
  results[`actorLoss ${dtype}`] = time(`actorLoss ${dtype}`, () => actorLoss(batch, { dtype }));
}
writeFileSync(
  new URL("./results.json", import.meta.url),
  `${JSON.stringify({ node: process.version, results }, null, 1)}\n`,
);
