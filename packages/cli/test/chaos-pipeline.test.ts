// Kill anywhere: `sr2se pipeline` SIGKILLed at seeded random moments while a child stage works. The
// stage must not go on writing alone (it would race the rerun's stage on the same output): every
// process the parent started is gone soon after, and the rerun takes the stage's output lock.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { chaosKills, killAnywhere } from "./chaos.js";
import { EXISTENCE_WORLD, TINY_SFT } from "./tiny-vlm.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-chaos-pipeline-"));
const KILLS = chaosKills(3);

it(`pipeline killed ${KILLS} times leaves no child stage writing alone, and each rerun takes the stage over`, async () => {
  const world = path.join(dir, "world.json");
  writeFileSync(world, JSON.stringify(EXISTENCE_WORLD));
  const tiny = path.join(dir, "tiny.json");
  // a long SFT stage, so that most kills find a child stage at work
  writeFileSync(
    tiny,
    JSON.stringify({
      ...TINY_SFT,
      training: { ...TINY_SFT.training, steps: 2000, save_every: 5, vision_pretrain_steps: 0 },
    }),
  );
  const out = path.join(dir, "run");
  const args = [
    ...["pipeline", "--out", out, "--seed", "11", "--train", "16", "--val", "2", "--test", "2"],
    ...["--pope", "2", "--mmmu", "2", "--mathvista", "2", "--mmvet", "2", "--chair", "2"],
    ...["--ipr-shards", "1", "--sft-config", tiny, "--dpo-steps", "2", "--world", world],
  ];
  const r = await killAnywhere({ args, kills: KILLS, seed: 6, minMs: 1500, maxMs: 6000, finish: false });
  expect(r.kills, r.killedStderr).toBe(KILLS);
  // the kills found child stages at work, and each was gone within the grace time (or killAnywhere threw)
  expect(r.orphansChecked, r.killedStderr).toBeGreaterThanOrEqual(KILLS - 1);
  // the reruns resumed the SFT stage from its checkpoints instead of starting over
  const steps = readFileSync(path.join(out, "sft", "logs", "sft.jsonl"), "utf8")
    .trim()
    .split("\n");
  expect(steps.length).toBeGreaterThan(0);
  expect(r.killedStderr).not.toMatch(/is being written by pid/);
}, 120_000);
