// Engine overhead with an instant policy: samples/s through the whole run (batching, answer checks,
// format and self-reward filters, pair and ledger writes with fsync, statistics). Prints and writes JSON.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RefinementEngine } from "../dist/index.js";

const N = Number(process.env.IPR_BENCH_SAMPLES ?? 50_000);
const here = path.dirname(fileURLToPath(import.meta.url));
const respond = (d, a) =>
  `<description>${d}</description>\n<think>Counting the shapes one by one.</think>\n\\boxed{${a}}`;
const WRONG = respond("A blue square at the top left and two red circles in the centre.", "3");
const RIGHT = respond("One red circle in the centre and a blue square at the top left.", "1");

// instant: answers from the chat length alone; half the samples need one refinement round
const instant = {
  async generate(requests) {
    return requests.map((r) => {
      if (r.image === undefined) return { text: "<think>t</think>\\boxed{1}", tokens: 4 };
      const refined = r.messages.length > 1;
      const odd = r.messages[0].content.charCodeAt(r.messages[0].content.indexOf("]") - 1) % 2 === 1;
      return { text: refined || !odd ? RIGHT : WRONG, tokens: 24 };
    });
  },
};

function* samples(n) {
  const objects = [
    { shape: "circle", color: "red", size: "small", cell: [1, 1] },
    { shape: "square", color: "blue", size: "small", cell: [0, 0] },
  ];
  for (let i = 0; i < n; i++) {
    yield {
      id: `s-${i}`,
      image: `images/${i}.png`,
      question: `[s-${i}] How many circles are there?`,
      answer: "1",
      answer_type: "integer",
      objects,
    };
  }
}

async function once(n) {
  const dir = await mkdtemp(path.join(tmpdir(), "ipr-bench-"));
  try {
    const engine = new RefinementEngine({
      policy: instant,
      rounds: 3,
      concurrency: 256,
      batchSize: 64,
      maxInFlight: 4,
    });
    const t0 = performance.now();
    const { stats } = await engine.run({ samples: samples(n), out: path.join(dir, "pairs.jsonl") });
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, stats };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await once(2000); // warm-up
const runs = [];
for (let i = 0; i < 3; i++) runs.push(await once(N));
const best = runs.reduce((a, b) => (a.seconds < b.seconds ? a : b));
const result = {
  benchmark: "ipr engine overhead (instant policy)",
  samples: N,
  pairs: best.stats.pairs,
  policy_calls: best.stats.policy.calls,
  seconds: Math.round(best.seconds * 1000) / 1000,
  samples_per_second: Math.round(N / best.seconds),
  runs_samples_per_second: runs.map((r) => Math.round(N / r.seconds)),
  target_samples_per_second: 5000,
  node: process.version,
  date: new Date().toISOString(),
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
await mkdir(path.join(here, "..", "bench-results"), { recursive: true });
await writeFile(
  path.join(here, "..", "bench-results", "engine.json"),
  `${JSON.stringify(result, null, 2)}\n`,
);
if (result.samples_per_second < result.target_samples_per_second) {
  process.stderr.write(
    `ipr bench: ${result.samples_per_second} samples/s is below the 5,000 samples/s target\n`,
  );
  process.exitCode = 1;
}
