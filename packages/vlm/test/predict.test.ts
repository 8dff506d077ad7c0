import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PredictionSchema } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import { readQuestions } from "../src/data/questions.js";
import { predictFile } from "../src/generation/predict.js";
import { tinyPng, tinyVlm } from "./tiny.js";

async function folder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vlm-predict-"));
  await mkdir(join(dir, "images"));
  await writeFile(join(dir, "images", "a.png"), tinyPng(255, 0, 0));
  await writeFile(join(dir, "images", "b.png"), tinyPng(0, 0, 255));
  return dir;
}

const jsonl = (rows: unknown[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;

describe("readQuestions", () => {
  it("reads samples and the benchmark formats (POPE, MMMU, MathVista, MM-Vet)", async () => {
    const dir = await folder();
    const files: [string, unknown[]][] = [
      [
        "samples.jsonl",
        [{ id: "s-1", image: "images/a.png", question: "How many circles are there?", answer: "1" }],
      ],
      [
        "pope.jsonl",
        [
          {
            question_id: 7,
            image: "images/a.png",
            text: "Is there a red circle in the image?",
            label: "yes",
          },
        ],
      ],
      [
        "mmmu.jsonl",
        [
          {
            id: "validation_Counting_1",
            question: "<image 1> How many circles?",
            options: ["1", "2"],
            answer: "A",
            image_1: "images/b.png",
          },
        ],
      ],
      [
        "mathvista.jsonl",
        [
          {
            pid: "3",
            question: "What is the total?",
            image: "images/b.png",
            choices: null,
            query: "Hint: … Question: What is the total?",
          },
        ],
      ],
      [
        "mmvet.jsonl",
        [
          {
            id: "v1_0",
            imagename: "a.png",
            image: "images/a.png",
            question: "What shapes are there?",
            answer: "circle",
          },
        ],
      ],
    ];
    const got = [];
    for (const [name, rows] of files) {
      await writeFile(join(dir, name), jsonl(rows));
      got.push(...(await readQuestions(join(dir, name))));
    }
    expect(got.map((q) => q.id)).toEqual(["s-1", "7", "validation_Counting_1", "3", "v1_0"]);
    expect(got[2].question).toBe("How many circles?\n(A) 1\n(B) 2");
    expect(got[1].image).toBe(join(dir, "images", "a.png"));
  });

  it("names the file and line of a bad record", async () => {
    const dir = await folder();
    await writeFile(
      join(dir, "bad.jsonl"),
      jsonl([
        { id: "a", image: "images/a.png", question: "q" },
        { id: "b", image: "images/a.png" },
      ]),
    );
    await expect(readQuestions(join(dir, "bad.jsonl"))).rejects.toThrow(
      /bad\.jsonl:2: field "question" is missing/,
    );
    await writeFile(join(dir, "out.jsonl"), jsonl([{ id: "a", image: "../secret.png", question: "q" }]));
    await expect(readQuestions(join(dir, "out.jsonl"))).rejects.toThrow(
      /out\.jsonl:1: .*leaves the dataset folder/,
    );
  });
});

describe("predictFile", () => {
  it("writes a Prediction for every question and skips the written ones on a rerun", async () => {
    const dir = await folder();
    const data = join(dir, "pope.jsonl");
    await writeFile(
      data,
      jsonl(
        [1, 2, 3].map((i) => ({
          question_id: i,
          image: i === 2 ? "images/b.png" : "images/a.png",
          text: `Is there a red circle number ${i}?`,
          label: "yes",
        })),
      ),
    );
    const vlm = tinyVlm(2);
    const out = join(dir, "pred.jsonl");
    expect(await predictFile(vlm, data, out, { maxTokens: 6, progress: false, batchSize: 2 })).toEqual({
      written: 3,
      skipped: 0,
    });
    const first = await readFile(out, "utf8");
    const preds = first
      .trim()
      .split("\n")
      .map((l) => PredictionSchema.parse(JSON.parse(l)));
    expect(preds.map((p) => p.id).sort()).toEqual(["1", "2", "3"]);
    expect(await predictFile(vlm, data, out, { maxTokens: 6, progress: false })).toEqual({
      written: 0,
      skipped: 3,
    });
    expect(await readFile(out, "utf8")).toBe(first);
  });

  it("a question whose image is not an image fails alone: its batch is answered, the run names file:line", async () => {
    const dir = await folder();
    await writeFile(join(dir, "images", "bad.png"), "<html>not an image</html>");
    const data = join(dir, "samples.jsonl");
    const images = ["images/a.png", "images/bad.png", "images/b.png", "images/a.png"];
    await writeFile(
      data,
      jsonl(
        images.map((image, i) => ({ id: `s-${i}`, image, question: "Is there a circle?", answer: "yes" })),
      ),
    );
    const out = join(dir, "pred.jsonl");
    await expect(
      predictFile(tinyVlm(2), data, out, { maxTokens: 4, progress: false, batchSize: 4 }),
    ).rejects.toThrow(/1 of 4 questions failed[\s\S]*samples\.jsonl:2: image ".*bad\.png" fails to decode/);
    const ids = (await readFile(out, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).id);
    expect(ids.sort()).toEqual(["s-0", "s-2", "s-3"]);
  });
});
