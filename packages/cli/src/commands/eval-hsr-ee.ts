// `sr2se eval hsr-ee`: HSR-EE on held-out data. The policy answers every question with a trial
// answer after each step (one pass, trials forked from the KV cache); each trial is graded; the
// accuracy-vs-tokens curve over a τ sweep is drawn for g_φ and both training-free gates (exact for
// greedy decoding: an early-exit run takes the same trials up to its exit); the gate's AUROC, ECE
// and Brier score; the exit-step histogram per question family; optionally the wall time of real
// early-exit prediction against plain prediction.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createProgress, writeFileAtomic } from "@sr2se/core";
import { readDataset } from "@sr2se/data";
import {
  accuracyTokenCurve,
  auroc,
  brierScore,
  chooseThreshold,
  DEFAULT_THRESHOLDS,
  type ExitPoint,
  exitStep,
  expectedCalibrationError,
} from "@sr2se/hsr-ee";
import {
  alwaysDeep,
  type Gate,
  type GradedQuestion,
  generateTrials,
  type LabelledTrajectory,
  labelledTrajectories,
  probabilityGate,
  stepOutcomes,
} from "@sr2se/hsr-ee/tensor";
import { VLM } from "@sr2se/vlm";
import type { Command } from "commander";
import { barChartSvg, lineChartSvg, writePng } from "../report/index.js";
import { device, integer } from "./args.js";
import { resolveGate, tauOption } from "./gate.js";

interface EvalHsrEeFlags {
  ckpt: string;
  gate: string;
  data: string;
  out: string;
  limit?: number;
  maxTokens: number;
  batchSize: number;
  tau?: number | "auto";
  timing?: boolean;
  device?: "cpu" | "webgpu";
}

/** Reads a dataset file's questions with their ground truth and family. */
export async function gradedQuestions(file: string, limit?: number): Promise<GradedQuestion[]> {
  const ds = await readDataset(file, { checkImages: false });
  return ds.records.slice(0, limit ?? ds.records.length).map((r) => ({
    id: r.sample.id,
    image: r.imagePath,
    question: r.sample.question,
    answer: r.sample.answer,
    family: r.sample.family ?? undefined,
  }));
}

/** Returns each gate's confidences for every trial of every trajectory. */
export async function gateConfidences(
  gate: Gate,
  trajectories: readonly LabelledTrajectory[],
): Promise<number[][]> {
  const all = await gate.confidences(trajectories.flatMap((t) => t.steps));
  let at = 0;
  return trajectories.map((t) => {
    const c = all.slice(at, at + t.steps.length);
    at += t.steps.length;
    return c;
  });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}`;

function curveTable(rows: { gate: string; points: ExitPoint[] }[], deepTokens: number): string {
  const lines = [
    "| gate | τ | accuracy % | mean tokens | tokens / deep | mean exit step |",
    "|---|---|---|---|---|---|",
  ];
  for (const { gate, points } of rows)
    for (const p of points)
      lines.push(
        `| ${gate} | ${p.threshold} | ${pct(p.accuracy)} | ${p.meanTokens.toFixed(1)} | ${(p.meanTokens / deepTokens).toFixed(3)} | ${p.meanExitStep.toFixed(2)} |`,
      );
  return lines.join("\n");
}

/** Registers `sr2se eval hsr-ee` under the `eval` group. */
export function register(program: Command): void {
  const evalCmd =
    program.commands.find((c) => c.name() === "eval") ??
    program.command("eval").description("evaluate predictions and policies");
  evalCmd
    .command("hsr-ee")
    .description(
      "HSR-EE on held-out data: accuracy vs tokens over a τ sweep (g_φ, trial-answer probability, always-deep), AUROC/ECE/Brier, exit steps per family",
    )
    .requiredOption("--ckpt <dir>", "the policy (an HSR-EE or SFT output folder, or a checkpoint)")
    .requiredOption("--gate <dir>", "the gate folder g_φ (from `sr2se train hsr-ee`)")
    .requiredOption("--data <file>", "held-out samples with answers (e.g. DATA/test.jsonl)")
    .requiredOption(
      "--out <dir>",
      "writes hsr-ee.json, hsr-ee.md, curve.png, exit-histogram.png, trials.jsonl",
    )
    .option("--limit <n>", "first n questions only", integer(1))
    .option("--max-tokens <n>", "longest response", integer(1), 256)
    .option("--batch-size <n>", "requests decoded together", integer(1), 32)
    .option("--tau <t>", "the operating point for the histogram and timing: a threshold or auto", tauOption)
    .option("--timing", "also time real early-exit prediction against plain prediction on the same questions")
    .option("--device <name>", "cpu or webgpu (default: the fastest CPU backend)", device)
    .addHelpText(
      "after",
      "\nExample:\n  sr2se eval hsr-ee --ckpt runs/demo/hsr-ee --gate runs/demo/hsr-ee/gate --data runs/demo/data/test.jsonl --out runs/demo/eval/hsr-ee --tau auto --timing\n",
    )
    .action(async (flags: EvalHsrEeFlags) => {
      const vlm = await VLM.load(flags.ckpt, { device: flags.device });
      const { gate, tau, tauSource } = await resolveGate(flags.gate, flags.tau);
      const questions = await gradedQuestions(flags.data, flags.limit);
      if (questions.length === 0) throw new Error(`${flags.data}: no questions`);
      const progress = createProgress({ label: "hsr-ee trials", total: questions.length, unit: "questions" });
      const trajectories = await labelledTrajectories(vlm, questions, {
        maxTokens: flags.maxTokens,
        batchSize: flags.batchSize,
        onProgress: (n) => progress.update(n),
      });
      progress.stop();

      const gates: Gate[] = [gate, probabilityGate, alwaysDeep];
      const confidences = await Promise.all(gates.map((g) => gateConfidences(g, trajectories)));
      const outcomes = confidences.map((conf) => trajectories.map((t, i) => stepOutcomes(t, conf[i])));
      const thresholds = [...DEFAULT_THRESHOLDS, 1];
      const curves = gates.map((g, j) => ({
        gate: g.name,
        points: accuracyTokenCurve(outcomes[j], g === alwaysDeep ? [1] : thresholds),
      }));
      const deep = curves[2].points[0];
      const flat = (j: number) => ({
        conf: confidences[j].flat(),
        correct: trajectories.flatMap((t) => t.correct),
      });
      const calibration = gates.slice(0, 2).map((g, j) => {
        const { conf, correct } = flat(j);
        return {
          gate: g.name,
          trials: conf.length,
          positive_rate: correct.filter(Boolean).length / correct.length,
          // undefined when every trial is right, or every one wrong (a weak policy on a small set)
          auroc: correct.includes(true) && correct.includes(false) ? auroc(conf, correct) : null,
          ece: expectedCalibrationError(conf, correct, 10),
          brier: brierScore(conf, correct),
        };
      });
      // the operating point: g_φ at τ; and what --tau auto would pick on this very set (for reference only)
      const at = accuracyTokenCurve(outcomes[0], [tau])[0];
      const hereAuto = chooseThreshold(outcomes[0]);
      const families = [...new Set(trajectories.map((t) => t.family ?? "all"))].sort();
      const exits = outcomes[0].map((o) => exitStep(o, tau));
      const maxExit = Math.max(...exits);
      const histogram: Record<string, number[]> = {};
      for (const f of families) histogram[f] = new Array<number>(maxExit + 1).fill(0);
      exits.forEach((k, i) => {
        histogram[trajectories[i].family ?? "all"][k]++;
      });
      const deepSteps = outcomes[0].map((o) => o.length - 1);

      let timing: Record<string, number> | undefined;
      if (flags.timing) {
        const pixels = await Promise.all(questions.map((q) => vlm.pixelsOf(q.image)));
        const requests = questions.map((q, i) => ({
          messages: [{ role: "user" as const, content: q.question }],
          pixels: pixels[i],
        }));
        const opts = { maxTokens: flags.maxTokens, batchSize: flags.batchSize };
        // alternate plain and early-exit runs twice; the faster of each pair is kept (the machine is shared)
        const plainS: number[] = [];
        const exitS: number[] = [];
        let plainTokens = 0;
        let exitTokens = 0;
        let exitCorrect = 0;
        for (let rep = 0; rep < 2; rep++) {
          let t0 = performance.now();
          const plain = await vlm.generateFromPixels(requests, opts);
          plainS.push((performance.now() - t0) / 1000);
          plainTokens = plain.reduce((a, g) => a + g.tokens, 0) / plain.length;
          t0 = performance.now();
          const early = await generateTrials(vlm, requests, { ...opts, gate, tau });
          exitS.push((performance.now() - t0) / 1000);
          exitTokens = early.reduce((a, g) => a + g.tokens, 0) / early.length;
          exitCorrect = early.filter((e, i) => {
            const t = trajectories[i];
            const k = e.exitLevel;
            return k === undefined ? t.deepCorrect : t.correct[k];
          }).length;
        }
        timing = {
          questions: questions.length,
          batch_size: flags.batchSize,
          plain_seconds: Math.min(...plainS),
          early_exit_seconds: Math.min(...exitS),
          wall_time_ratio: Math.min(...exitS) / Math.min(...plainS),
          plain_mean_tokens: plainTokens,
          early_exit_mean_tokens: exitTokens,
          early_exit_accuracy: exitCorrect / questions.length,
        };
      }

      const summary = {
        data: flags.data,
        questions: trajectories.length,
        gate: flags.gate,
        tau,
        tau_source: tauSource,
        always_deep: {
          accuracy: deep.accuracy,
          mean_tokens: deep.meanTokens,
          mean_steps: deepSteps.reduce((a, b) => a + b, 0) / deepSteps.length,
        },
        operating_point: {
          ...at,
          tokens_ratio: at.meanTokens / deep.meanTokens,
          accuracy_drop: deep.accuracy - at.accuracy,
        },
        tau_auto_on_this_set: hereAuto,
        calibration,
        curves,
        exit_histogram: histogram,
        ...(timing ? { timing } : {}),
      };
      const out = flags.out;
      await mkdir(out, { recursive: true });
      await writeFileAtomic(path.join(out, "hsr-ee.json"), `${JSON.stringify(summary, null, 2)}\n`);
      await writeFile(
        path.join(out, "trials.jsonl"),
        trajectories
          .map((t, i) =>
            JSON.stringify({
              id: t.id,
              family: t.family,
              tokens: t.tokens,
              deep_correct: t.deepCorrect,
              steps: t.steps.map((s, k) => ({
                step: s.step,
                part: s.part,
                answer: s.answer,
                correct: t.correct[k],
                tokens: s.tokens,
                first_prob: s.firstProb,
                g_phi: confidences[0][i][k],
              })),
            }),
          )
          .join("\n")
          .concat("\n"),
      );
      const colors = ["#1f77b4", "#ff7f0e", "#2ca02c"];
      await writePng(
        lineChartSvg({
          title: "HSR-EE: accuracy vs generated tokens",
          subtitle: `${trajectories.length} held-out questions; τ swept ${thresholds[0]}–1`,
          xLabel: "mean generated tokens",
          yLabel: "accuracy (%)",
          series: curves.map((c, j) => ({
            name: c.gate,
            color: colors[j],
            points: [...c.points]
              .sort((a, b) => a.meanTokens - b.meanTokens)
              .map((p) => ({ x: p.meanTokens, y: 100 * p.accuracy })),
          })),
        }),
        path.join(out, "curve.png"),
      );
      await writePng(
        barChartSvg({
          title: `Exit step per question family (g_φ, τ = ${tau})`,
          subtitle: "share of each family's questions; the last step of a response is its whole answer",
          yLabel: "share of questions (%)",
          groups: Array.from({ length: maxExit + 1 }, (_, k) => `step ${k}`),
          series: families.map((f) => {
            const n = histogram[f].reduce((a, b) => a + b, 0);
            return { name: f, values: histogram[f].map((c) => ({ value: (100 * c) / Math.max(n, 1) })) };
          }),
          width: 900,
        }),
        path.join(out, "exit-histogram.png"),
      );
      const md = [
        `# HSR-EE on ${flags.data} (${trajectories.length} questions)`,
        "",
        `Always-deep: accuracy ${pct(deep.accuracy)}%, ${deep.meanTokens.toFixed(1)} tokens. g_φ at τ = ${tau} (${tauSource}): accuracy ${pct(at.accuracy)}%, ${at.meanTokens.toFixed(1)} tokens (${((100 * at.meanTokens) / deep.meanTokens).toFixed(1)}% of always-deep), mean exit step ${at.meanExitStep.toFixed(2)}.`,
        "",
        "## Gate calibration (every trial answer)",
        "",
        "| gate | trials | right % | AUROC | ECE (10 bins) | Brier |",
        "|---|---|---|---|---|---|",
        ...calibration.map(
          (c) =>
            `| ${c.gate} | ${c.trials} | ${pct(c.positive_rate)} | ${c.auroc?.toFixed(3) ?? "— (one outcome only)"} | ${c.ece.toFixed(3)} | ${c.brier.toFixed(3)} |`,
        ),
        "",
        "## Exit steps per family (g_φ at τ)",
        "",
        `| family | ${Array.from({ length: maxExit + 1 }, (_, k) => `${k}`).join(" | ")} |`,
        `|---|${Array.from({ length: maxExit + 1 }, () => "---").join("|")}|`,
        ...families.map((f) => `| ${f} | ${histogram[f].join(" | ")} |`),
        "",
        ...(timing
          ? [
              "## Wall time",
              "",
              `Plain ${timing.plain_seconds.toFixed(2)} s, early exit ${timing.early_exit_seconds.toFixed(2)} s (${(100 * timing.wall_time_ratio).toFixed(1)}%), batch ${flags.batchSize}; tokens ${timing.plain_mean_tokens.toFixed(1)} → ${timing.early_exit_mean_tokens.toFixed(1)}.`,
              "",
            ]
          : []),
        "## Accuracy vs tokens",
        "",
        curveTable(curves, deep.meanTokens),
        "",
      ].join("\n");
      await writeFile(path.join(out, "hsr-ee.md"), md);
      process.stdout.write(
        `${JSON.stringify({ out, questions: trajectories.length, always_deep: summary.always_deep, operating_point: summary.operating_point, calibration, ...(timing ? { timing } : {}) })}\n`,
      );
    });
}
