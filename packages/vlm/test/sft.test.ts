import { spawn } from "node:child_process";
import { appendFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyPrompt } from "@sr2se/core";
import { synthesize } from "@sr2se/data";
import { beforeAll, describe, expect, it } from "vitest";
import { tinySftModel } from "../../../test-support/tiny-vlm.js";
import { readCheckpoint } from "../src/checkpoint/checkpoint.js";
import { type SftConfigFile, type SftLogRow, trainSft } from "../src/train/sft.js";
import { VLM } from "../src/vlm.js";

const config: SftConfigFile = {
  ...tinySftModel,
  training: {
    steps: 24,
    batch_size: 4,
    lr: 1e-2,
    warmup_steps: 4,
    save_every: 8,
    eval_every: 12,
    eval_samples: 4,
    eval_max_tokens: 12,
    vocab_size: 300,
  },
};

let data: string;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "vlm-sft-"));
  data = join(root, "data");
  await synthesize({ out: data, counts: { train: 48, val: 4, test: 0 }, seed: 3, config: { size: 32 } });
});

const rows = async (out: string): Promise<SftLogRow[]> =>
  (await readFile(join(out, "logs", "sft.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe("sft", () => {
  it("trains: the loss falls, rows are logged, validation runs, the checkpoint loads", async () => {
    const out = join(root, "run");
    const result = await trainSft({ data, out, config, progress: false });
    const log = await rows(out);
    expect(log.map((r) => r.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(log[23].loss).toBeLessThan(log[0].loss * 0.7);
    expect(log[11].val_loss).toBeGreaterThan(0);
    expect(log[11].val_format).toBeGreaterThanOrEqual(0);
    expect(log[23].tokens_per_s).toBeGreaterThan(0);
    expect(result.steps).toBe(24);
    const vlm = await VLM.load(out);
    const state = JSON.parse(await readFile(join(out, "checkpoint", "trainer_state.json"), "utf8"));
    expect(state.step).toBe(24);
    expect(vlm.config.text_config.hidden_size).toBe(32);
  });

  it("resumes over a log whose last line a crash tore", async () => {
    const out = join(root, "torn");
    await trainSft({ data, out, config, progress: false, stopAfter: 8 });
    await appendFile(join(out, "logs", "sft.jsonl"), '{"step": 9, "loss": 2.');
    await trainSft({ data, out, config, progress: false, resume: true });
    expect((await rows(out)).map((r) => r.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it("resumes after SIGKILL on the same loss curve", async () => {
    const cfgFile = join(root, "config.json");
    await writeFile(cfgFile, JSON.stringify(config));
    // every run is its own process on the built package, as `sr2se train sft` runs
    const run = (out: string, opts: { resume?: boolean; killAfter?: number }) => {
      const script = `
        import { readFileSync } from "node:fs";
        import { trainSft, useFastestBackend } from "@sr2se/vlm";
        await useFastestBackend();
        const config = JSON.parse(readFileSync(${JSON.stringify(cfgFile)}, "utf8"));
        await trainSft({ data: ${JSON.stringify(data)}, out: ${JSON.stringify(out)}, config, progress: false, resume: ${!!opts.resume},
          onStep: (row) => { if (row.step === ${opts.killAfter ?? -1}) process.kill(process.pid, "SIGKILL"); } });
      `;
      return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
          cwd: join(import.meta.dirname, ".."),
          stdio: "ignore",
        });
        child.on("error", reject);
        child.on("exit", (code, signal) => resolve({ code, signal }));
      });
    };
    const reference = join(root, "reference");
    expect((await run(reference, {})).code).toBe(0);
    // killed after step 13: the checkpoint of step 8 is on disk, steps 9–13 are lost and run again
    const killed = join(root, "killed");
    expect((await run(killed, { killAfter: 13 })).signal).toBe("SIGKILL");
    expect((await rows(killed)).length).toBe(13);
    expect((await run(killed, { resume: true })).code).toBe(0);
    const a = await rows(reference);
    const b = await rows(killed);
    expect(b.map((r) => r.step)).toEqual(a.map((r) => r.step));
    expect(b.map((r) => r.loss)).toEqual(a.map((r) => r.loss));
    expect(b.map((r) => r.grad_norm)).toEqual(a.map((r) => r.grad_norm));
    expect(b.map((r) => r.val_loss)).toEqual(a.map((r) => r.val_loss));
    // three child processes, each loading and training: minutes on a loaded 2-core machine
  }, 240_000);

  it("with ema_decay, model.safetensors holds the weight average, training_weights.safetensors the raw weights, and a resumed run ends on the same bits", async () => {
    const emaConfig = {
      ...config,
      training: { ...config.training, steps: 12, save_every: 4, eval_every: 0, ema_decay: 0.9 },
    };
    const whole = join(root, "ema-whole");
    await trainSft({ data, out: whole, config: emaConfig, progress: false });
    const split = join(root, "ema-split");
    await trainSft({ data, out: split, config: emaConfig, progress: false, stopAfter: 7 });
    await trainSft({ data, out: split, config: emaConfig, progress: false, resume: true });
    const file = (out: string, name: string) => readFile(join(out, "checkpoint", name));
    for (const name of ["model.safetensors", "training_weights.safetensors", "optimizer.safetensors"])
      expect(Buffer.compare(await file(split, name), await file(whole, name)), name).toBe(0);
    // the average is not the last iterate, and the loaded model is the average
    const average = await VLM.load(whole);
    const raw = (await readCheckpoint(join(whole, "checkpoint"), { trainingState: true })).trainingWeights;
    const name = [...(raw?.keys() ?? [])].find((n) => n.endsWith("embed_tokens.weight")) ?? "";
    const averaged = await average
      .namedParameters()
      .find(([n]) => n === name)?.[1]
      .data();
    expect(averaged).toBeDefined();
    expect(Array.from(averaged ?? [])).not.toEqual(Array.from(raw?.get(name)?.data ?? []));
    expect(JSON.parse((await file(whole, "trainer_state.json")).toString()).ema_updates).toBe(12);
    // without ema_decay there is no second weights file
    expect(
      await readFile(join(root, "run", "checkpoint", "training_weights.safetensors")).catch(() => null),
    ).toBeNull();
  });

  it("with reasoning_loss_weight, the reasoning tokens weigh more, and a resumed run ends on the same bits", async () => {
    const weighted = {
      ...config,
      training: { ...config.training, steps: 8, save_every: 4, eval_every: 0, reasoning_loss_weight: 3 },
    };
    const plain = join(root, "rw-plain");
    await trainSft({
      data,
      out: plain,
      config: { ...weighted, training: { ...weighted.training, reasoning_loss_weight: 1 } },
      progress: false,
    });
    const whole = join(root, "rw-whole");
    await trainSft({ data, out: whole, config: weighted, progress: false });
    // the first step's loss is another mean of the same tokens' cross entropies
    const [p1, w1] = [(await rows(plain))[0], (await rows(whole))[0]];
    expect(w1.loss).not.toBe(p1.loss);
    expect(Math.abs(w1.loss - p1.loss)).toBeLessThan(p1.loss);
    const split = join(root, "rw-split");
    await trainSft({ data, out: split, config: weighted, progress: false, stopAfter: 5 });
    await trainSft({ data, out: split, config: weighted, progress: false, resume: true });
    expect((await rows(split)).map((r) => r.loss)).toEqual((await rows(whole)).map((r) => r.loss));
    await expect(
      trainSft({
        data,
        out: join(root, "rw-bad"),
        config: { ...weighted, training: { ...weighted.training, reasoning_loss_weight: 0 } },
        progress: false,
      }),
    ).rejects.toThrow(/reasoning_loss_weight must be > 0, got 0/);
  }, 180_000);

  it("with object_tokens, each object name of the scenes is one token of the trained tokenizer", async () => {
    const out = join(root, "ot");
    const cfg = {
      ...config,
      training: { ...config.training, steps: 2, save_every: 2, eval_every: 0, vocab_size: 400 },
    };
    await trainSft({
      data,
      out,
      config: { ...cfg, training: { ...cfg.training, object_tokens: true } },
      progress: false,
    });
    const plain = join(root, "ot-plain");
    await trainSft({ data, out: plain, config: cfg, progress: false });
    const [tok, plainTok] = [
      (await VLM.load(join(out, "checkpoint"))).tokenizer,
      (await VLM.load(join(plain, "checkpoint"))).tokenizer,
    ];
    const sample = JSON.parse((await readFile(join(data, "train.jsonl"), "utf8")).split("\n")[0]);
    const [first] = sample.objects;
    const text = `Is there a ${first.color} ${first.shape} in the image?`;
    const ids = tok.encode(text);
    expect(ids.map((i) => tok.decode([i], true))).toContain(` ${first.color} ${first.shape}`);
    expect(ids.length).toBeLessThan(plainTok.encode(text).length);
    expect(tok.decode(ids)).toBe(text);
  }, 120_000);

  it("with verify_share, text-only self-reward examples train beside the images, and a resumed run ends on the same bits", async () => {
    const verify = {
      ...config,
      training: {
        ...config.training,
        steps: 8,
        save_every: 4,
        eval_every: 0,
        verify_share: 0.5,
        vocab_size: 1000,
      },
    };
    const whole = join(root, "vs-whole");
    await trainSft({ data, out: whole, config: verify, progress: false });
    // the tokenizer saw the verify prompt: its fixed words cost few tokens
    const vlm = await VLM.load(join(whole, "checkpoint"));
    const prompt = verifyPrompt("a red circle top-left.", "Is there a red circle?");
    expect(vlm.tokenizer.encode(prompt).length).toBeLessThan(prompt.length / 3);
    const plain = join(root, "vs-plain");
    await trainSft({
      data,
      out: plain,
      config: { ...verify, training: { ...verify.training, verify_share: 0 } },
      progress: false,
    });
    expect((await rows(whole)).map((r) => r.loss)).not.toEqual((await rows(plain)).map((r) => r.loss));
    const split = join(root, "vs-split");
    await trainSft({ data, out: split, config: verify, progress: false, stopAfter: 5 });
    await trainSft({ data, out: split, config: verify, progress: false, resume: true });
    expect((await rows(split)).map((r) => r.loss)).toEqual((await rows(whole)).map((r) => r.loss));
    await expect(
      trainSft({
        data,
        out: join(root, "vs-bad"),
        config: { ...verify, training: { ...verify.training, verify_share: 1.5 } },
        progress: false,
      }),
    ).rejects.toThrow(/verify_share must be in 0–1, got 1.5/);
  }, 180_000);
});
