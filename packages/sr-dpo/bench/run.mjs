// Throughput of dpoLoss (loss, rewards, metrics and gradients) per loss type, on the built package.
// Usage: npm run bench -w @sr2se/sr-dpo   (writes bench/results.json)
import { writeFileSync } from "node:fs";
import { dpoLoss, PAIR_LOSS_TYPES } from "../dist/index.js";

const N = 1 << 16;
const rand = (() => {
  let s = 12345;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
})();
const col = (f) => Float64Array.from({ length: N }, f);
const batch = {
  policyChosen: col(() => -40 + 20 * rand()),
  policyRejected: col(() => -40 + 20 * rand()),
  referenceChosen: col(() => -40 + 20 * rand()),
  referenceRejected: col(() => -40 + 20 * rand()),
  chosenLengths: col(() => 1 + Math.floor(30 * rand())),
  rejectedLengths: col(() => 1 + Math.floor(30 * rand())),
};

const results = {};
for (const lossType of [...PAIR_LOSS_TYPES, "all"]) {
  const options = lossType === "all" ? { lossType: [...PAIR_LOSS_TYPES], alpha: 0.5 } : { lossType };
  dpoLoss(batch, options); // warm up
  const reps = 20;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) dpoLoss(batch, options);
  const ms = (performance.now() - t0) / reps;
  results[lossType] = { pairsPerSecond: Math.round((N / ms) * 1000), msPerBatch: +ms.toFixed(3), batch: N };
  console.log(
    `${lossType.padEnd(10)} ${(N / ms / 1000).toFixed(2).padStart(8)} M pairs/s  (${ms.toFixed(2)} ms for ${N} pairs)`,
  );
}
writeFileSync(
  new URL("./results.json", import.meta.url),
  `${JSON.stringify({ node: process.version, results }, null, 1)}\n`,
);
