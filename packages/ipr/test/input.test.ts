import { symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RefinementEngine, readSamples, ScriptedPolicy } from "../src/index.js";
import { respond, tempDir } from "./helpers.js";

const policy = new ScriptedPolicy(() => respond("FAITHFUL", "1"));

async function collect(file: string) {
  const out = [];
  for await (const s of readSamples(file)) out.push(s);
  return out;
}

describe("reading samples", () => {
  it("streams JSONL and resolves images against the file's folder", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "samples.jsonl");
    await writeFile(
      file,
      `${JSON.stringify({ id: "s-1", image: "images/1.png", question: "q", answer: "1" })}\n\n`,
    );
    const [s] = await collect(file);
    expect(s.image).toBe(path.join(dir, "images/1.png"));
    expect(s.where).toBe(`${file}:1`);
  });

  it("reads a JSON array too", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "samples.json");
    await writeFile(file, JSON.stringify([{ id: "a", image: "a.png", question: "q", answer: "1" }], null, 2));
    expect((await collect(file)).map((s) => s.sample.id)).toEqual(["a"]);
  });

  it("names file, line and field of a sample without an answer", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "samples.jsonl");
    const good = JSON.stringify({ id: "s-1", image: "1.png", question: "q", answer: "1" });
    await writeFile(file, `${good}\n${JSON.stringify({ id: "s-2", image: "2.png", question: "q" })}\n`);
    await expect(collect(file)).rejects.toThrow(`${file}:2: field "answer" is missing`);
  });

  it("refuses an image path that leaves the dataset folder", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "samples.jsonl");
    await writeFile(
      file,
      `${JSON.stringify({ id: "s-1", image: "../secret.png", question: "q", answer: "1" })}\n`,
    );
    await expect(collect(file)).rejects.toThrow(
      `${file}:1: field "image": "../secret.png" leaves the dataset folder`,
    );
  });

  it("refuses a symlinked image that leads out of the dataset folder, before the policy sees it", async () => {
    const dir = await tempDir();
    const elsewhere = await tempDir();
    await writeFile(path.join(elsewhere, "secret.png"), "not for the endpoint");
    await symlink(path.join(elsewhere, "secret.png"), path.join(dir, "1.png"));
    const file = path.join(dir, "samples.jsonl");
    await writeFile(file, `${JSON.stringify({ id: "s-1", image: "1.png", question: "q", answer: "1" })}\n`);
    const seen: unknown[] = [];
    const watched = new ScriptedPolicy(({ request }) => {
      seen.push(request.image);
      return respond("FAITHFUL", "1");
    });
    const engine = new RefinementEngine({ policy: watched, selfReward: false });
    await expect(engine.run({ samples: readSamples(file), out: path.join(dir, "p.jsonl") })).rejects.toThrow(
      `${file}:1: field "image": "1.png" leaves the dataset folder (through a symlink`,
    );
    expect(seen).toEqual([]);
  });

  it("with imagesRoot, resolves plain samples' images and refuses one that leaves the folder", async () => {
    const dir = await tempDir();
    const seen: unknown[] = [];
    const watched = new ScriptedPolicy(({ request }) => {
      seen.push(request.image);
      return respond("FAITHFUL", "1");
    });
    const engine = new RefinementEngine({ policy: watched, selfReward: false, rounds: 0 });
    const ok = { id: "s-1", image: "img/1.png", question: "q", answer: "1" };
    await engine.run({ samples: [ok], out: path.join(dir, "a.jsonl"), imagesRoot: dir });
    expect(seen).toEqual([path.join(dir, "img/1.png")]);
    const out = path.join(dir, "b.jsonl");
    await expect(
      engine.run({ samples: [{ ...ok, id: "s-2", image: "/etc/hostname" }], out, imagesRoot: dir }),
    ).rejects.toThrow(
      'sample "s-2": field "image": "/etc/hostname" leaves the dataset folder (an absolute path)',
    );
    expect(seen).toHaveLength(1);
  });

  it("names a missing dataset file", async () => {
    await expect(collect("/nonexistent/samples.jsonl")).rejects.toThrow(
      "/nonexistent/samples.jsonl: no such file",
    );
  });

  it("stops a run at a duplicate sample id, naming its line, after saving what is done", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "samples.jsonl");
    const line = (id: string) => JSON.stringify({ id, image: `${id}.png`, question: "q", answer: "1" });
    await writeFile(file, [line("a"), line("b"), line("a")].join("\n"));
    const engine = new RefinementEngine({ policy, selfReward: false });
    await expect(engine.run({ samples: readSamples(file), out: path.join(dir, "p.jsonl") })).rejects.toThrow(
      `${file}:3: duplicate sample id "a"`,
    );
  });

  it("stops a run at a bad record with its file and line", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "samples.jsonl");
    await writeFile(
      file,
      `${JSON.stringify({ id: "a", image: "a.png", question: "q", answer: "1" })}\n{oops\n`,
    );
    const engine = new RefinementEngine({ policy, selfReward: false });
    await expect(engine.run({ samples: readSamples(file), out: path.join(dir, "p.jsonl") })).rejects.toThrow(
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:2: invalid JSON`),
    );
  });
});

describe("engine options", () => {
  it("rejects bad options with the option's name", () => {
    expect(() => new RefinementEngine({ policy, rounds: -1 })).toThrow(
      "rounds must be an integer ≥ 0, got -1",
    );
    expect(() => new RefinementEngine({ policy, samplesPerRound: 0 })).toThrow(
      "samplesPerRound must be an integer ≥ 1",
    );
    expect(() => new RefinementEngine({ policy, temperature: [0, -1] })).toThrow(
      "temperature -1 must be a number ≥ 0",
    );
    expect(() => new RefinementEngine({ policy, batchSize: 0 })).toThrow(
      "batchSize must be an integer ≥ 1, got 0",
    );
    expect(() => new RefinementEngine({ policy, maxInFlight: 0 })).toThrow(
      "maxInFlight must be an integer ≥ 1, got 0",
    );
    expect(() => new RefinementEngine({ policy, formatCheck: "loose" as never })).toThrow('got "loose"');
    expect(() => new RefinementEngine({ policy: {} as never })).toThrow(
      "options.policy must have a generate",
    );
  });
});
