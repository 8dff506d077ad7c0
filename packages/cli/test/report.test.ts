import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Rng } from "@sr2se/core";
import {
  describeScene,
  renderScenePng,
  resolveWorldConfig,
  SHAPES_WORLD_VOCABULARY,
  sampleScene,
} from "@sr2se/data";
import { type ComparableResult, type Comparison, compareResults, scoreChair, scorePope } from "@sr2se/eval";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  barChartSvg,
  galleryEntries,
  gallerySvg,
  goalStatements,
  headlineTable,
  lineChartSvg,
  popeSizeStatement,
  ReportWriter,
  svgToPng,
  trainingSection,
} from "../src/report/index.js";

// REPORT_SAMPLES=DIR keeps the rendered PNGs there to look at.
const dir = process.env.REPORT_SAMPLES ?? mkdtempSync(path.join(tmpdir(), "sr2se-report-"));
mkdirSync(dir, { recursive: true });

async function decode(png: Buffer | string) {
  return sharp(png).metadata();
}

function pope(seed: number, split: string, yesBias: number): ComparableResult {
  const rng = new Rng(seed);
  const questions = Array.from({ length: 120 }, (_, i) => ({
    id: `${split}-${i}`,
    split,
    label: i % 2 ? "yes" : "no",
  }));
  const predictions = questions.map((q) => ({
    id: q.id,
    response: rng.bool(0.8) ? q.label : rng.bool(yesBias) ? "yes" : "no",
  }));
  return scorePope(questions, predictions) as unknown as ComparableResult;
}

function chair(seed: number, wrong: number): ComparableResult {
  const rng = new Rng(seed);
  const data = Array.from({ length: 40 }, (_, i) => ({
    id: `c${i}`,
    objects: [{ shape: "circle", color: "red" }],
  }));
  const preds = data.map((d) => ({
    id: d.id,
    response: `A red circle.${rng.bool(wrong) ? " A blue star." : ""}`,
  }));
  return scoreChair(data, preds, { vocabulary: SHAPES_WORLD_VOCABULARY }) as unknown as ComparableResult;
}

const splits = ["random", "popular", "adversarial"];
const base = [...splits.map((s, i) => pope(i, s, 0.9)), chair(1, 0.5)];
const better = [...splits.map((s, i) => pope(i + 20, s, 0.3)), chair(2, 0.1)];
const comparison: Comparison = compareResults(base, better, { iterations: 300, popeFalsePositiveRate: true });

describe("charts", () => {
  it("a bar chart renders to a PNG with its legend and escaped labels", async () => {
    const svg = barChartSvg({
      title: "Benchmarks <test>",
      yLabel: "score (%)",
      groups: ["pope adversarial (F1)", "mmmu (accuracy)"],
      series: [
        {
          name: "sft",
          values: [
            { value: 84.2, low: 82, high: 86.1 },
            { value: 60, low: 55, high: 65 },
          ],
        },
        { name: "ipr-srdpo", values: [{ value: 88.5, low: 86.7, high: 90.2 }, null] },
      ],
    });
    expect(svg).toContain("Benchmarks &#60;test&#62;");
    expect(svg).toContain(">ipr-srdpo</text>");
    const png = await svgToPng(svg);
    writeFileSync(path.join(dir, "bar.png"), png);
    const meta = await decode(png);
    expect(meta.format).toBe("png");
    expect(meta.width).toBeGreaterThan(600);
  });

  it("text with characters XML forbids (a model's control bytes, a lone surrogate) still renders", async () => {
    const svg = barChartSvg({
      title: "sampled \u0011text\u0000 \uD800 ok",
      yLabel: "score (%)",
      groups: ["a\u001Fb"],
      series: [{ name: "x\uFFFF", values: [{ value: 50, low: 40, high: 60 }] }],
    });
    expect(svg).toContain("sampled \uFFFDtext\uFFFD \uFFFD ok");
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters XML forbids are what it looks for
    expect(svg).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFF]/);
    expect((await decode(await svgToPng(svg))).format).toBe("png");
  });

  it("a line chart draws the raw and the smoothed curve of a training log", async () => {
    const points = Array.from({ length: 50 }, (_, i) => ({
      x: i + 1,
      y: 2 * Math.exp(-i / 15) + 0.1 * Math.sin(i),
    }));
    const svg = lineChartSvg({
      title: "loss",
      xLabel: "step",
      yLabel: "loss",
      series: [{ name: "sft", points }],
      smooth: 0.8,
    });
    expect(svg.match(/<path /g)).toHaveLength(2);
    const png = await svgToPng(svg);
    writeFileSync(path.join(dir, "line.png"), png);
    expect((await decode(png)).format).toBe("png");
  });
});

describe("the gallery", () => {
  it("marks the objects the rejected description names but the image does not hold", async () => {
    const config = resolveWorldConfig({});
    const scene = sampleScene(new Rng(3).fork("scene"), config, { minDistinct: 2 });
    mkdirSync(path.join(dir, "images"), { recursive: true });
    writeFileSync(path.join(dir, "images", "a.png"), renderScenePng(scene, config.size));
    const first = scene.objects[0] as { shape: string; color: string };
    const absent = ["red", "blue", "green"].find(
      (c) => !scene.objects.some((o) => o.color === c && o.shape === "star"),
    ) as string;
    const pair = {
      id: "p-a",
      sample_id: "a",
      image: "images/a.png",
      prompt: "",
      chosen: `<description>${describeScene(scene.objects)}</description>\n<think>Look.</think>\n\\boxed{no}`,
      rejected: `<description>A ${first.color} ${first.shape} and a ${absent} star.</description>\n<think>I see a star.</think>\n\\boxed{yes}`,
      meta: { round: 1 },
    };
    const entries = galleryEntries(
      [pair],
      () => ({ question: `Is there a ${absent} star?`, answer: "no", objects: scene.objects }),
      (image) => path.join(dir, image),
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]?.rejectedHallucinated).toEqual([`${absent} star`]);
    expect(entries[0]?.chosenHallucinated).toEqual([]);
    const svg = await gallerySvg(entries);
    expect(svg).toContain(`text-decoration="underline">${absent}</tspan>`);
    expect(svg).toContain("data:image/png;base64,");
    const png = await svgToPng(svg);
    writeFileSync(path.join(dir, "gallery.png"), png);
    expect((await decode(png)).format).toBe("png");
  });
});

describe("report.md", () => {
  it("links every figure it renders, and the PNGs decode", async () => {
    const out = path.join(dir, "report");
    const w = new ReportWriter(out);
    w.heading(1, "Test report");
    await w.figure(
      "bars",
      barChartSvg({
        title: "t",
        yLabel: "y",
        groups: ["a"],
        series: [{ name: "sft", values: [{ value: 1 }] }],
      }),
      "bars",
    );
    const log = path.join(dir, "sr-dpo.jsonl");
    writeFileSync(
      log,
      `${Array.from({ length: 20 }, (_, i) => JSON.stringify({ step: i + 1, loss: 0.7 - i * 0.01, "rewards/margins": i * 0.02, "logps/chosen": -5 + i * 0.01 })).join("\n")}\n{"step":21,"lo`,
    );
    expect(
      await trainingSection(
        w,
        "training-sr-dpo",
        "SR-DPO",
        [{ name: "seed 1", file: log }],
        ["loss", "rewards/margins", "logps/chosen"],
      ),
    ).toBe(true);
    const md = readFileSync(await w.write(), "utf8");
    expect(md).toContain("![bars](plots/bars.png)");
    expect(md).toContain("(plots/training-sr-dpo.png)");
    for (const f of w.figures) expect((await decode(f)).format).toBe("png");
  });

  it("the headline table names every POPE split and the false-positive rows", () => {
    const t = headlineTable("sft", [{ variant: "ipr-srdpo", comparison }]);
    for (const s of splits) {
      expect(t).toContain(`| pope ${s} (F1) |`);
      expect(t).toContain(`| pope ${s} (FPR) ↓ |`);
    }
    expect(t).toContain("| chair (CHAIR_i) ↓ |");
    expect(t.split("\n")[0]).toBe("| Benchmark | sft | ipr-srdpo | Δ vs sft (95% CI) |");
  });

  it("goals say met or NOT met with the numbers", () => {
    const text = goalStatements({
      variant: "ipr-srdpo",
      baseline: "sft",
      vsBaseline: comparison,
      vsControls: [],
      scope: "one run",
    });
    expect(text).toMatch(/\*\*(met|NOT met)\*\*: POPE adversarial F1 up by ≥ 4\.3/);
    expect(text).toMatch(/\*\*met\*\*: CHAIR_i on held-out descriptions down by ≥ 40%/);
    const same = compareResults(base, base, { iterations: 50, popeFalsePositiveRate: true });
    const none = goalStatements({
      variant: "x",
      baseline: "sft",
      vsBaseline: same,
      vsControls: [{ control: "sft-continued", comparison: same }],
      scope: "one run",
    });
    expect(none).toContain("**NOT met**: POPE adversarial F1");
    expect(none).toContain("**NOT met**: beats sft-continued");
  });

  it("states POPE's expected interval for its size", () => {
    expect(popeSizeStatement(1200, 3)).toContain("±1.8 points on one seed and ±1.0 pooled over 3 seeds");
    expect(popeSizeStatement(120, 1)).toContain("NOT outside");
  });
});
