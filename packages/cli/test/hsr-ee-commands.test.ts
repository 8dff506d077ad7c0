import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sr2seSync } from "./cli.js";

describe("the HSR-EE commands", () => {
  it("each has --help with an example", () => {
    for (const args of [["train", "hsr-ee"], ["eval", "hsr-ee"], ["predict"]]) {
      const r = sr2seSync([...args, "--help"]);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("Example");
      expect(r.stdout).toContain("--gate");
    }
  });

  it("a bad --tau is refused on the first line", () => {
    const r = sr2seSync([
      "predict",
      "--ckpt",
      "x",
      "--data",
      "y",
      "--out",
      "z",
      "--gate",
      "probability",
      "--tau",
      "2",
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.split("\n")[0]).toContain('expected a threshold in [0, 1] or "auto", got "2"');
  });

  it("--tau auto with a training-free gate, and a gate folder that is not one, are refused plainly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hsr-ee-cli-"));
    const ckpt = join(import.meta.dirname, "../../vlm/test/fixtures/ckpt-1f4a8ce");
    const auto = sr2seSync([
      "predict",
      "--ckpt",
      ckpt,
      "--data",
      "y",
      "--out",
      join(dir, "p.jsonl"),
      "--gate",
      "probability",
      "--tau",
      "auto",
    ]);
    expect(auto.status).not.toBe(0);
    expect(auto.stderr).toContain("--tau auto needs a gate folder");
    const bad = sr2seSync(["eval", "hsr-ee", "--ckpt", ckpt, "--gate", dir, "--data", "y", "--out", dir]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim()).toBe(
      `sr2se: ${join(dir, "config.json")}: not found (--gate must be a gate folder)`,
    );
  });

  it("train hsr-ee on a folder without train.jsonl says so", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hsr-ee-cli-"));
    const ckpt = join(import.meta.dirname, "../../vlm/test/fixtures/ckpt-1f4a8ce");
    const r = sr2seSync(["train", "hsr-ee", "--ckpt", ckpt, "--data", dir, "--out", join(dir, "out")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${join(dir, "train.jsonl")}: not found`);
  });

  it("train hsr-ee --config names the file and the field it refuses", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hsr-ee-cli-"));
    const ckpt = join(import.meta.dirname, "../../vlm/test/fixtures/ckpt-1f4a8ce");
    const unknown = join(dir, "unknown.json");
    await writeFile(unknown, JSON.stringify({ stepz: 3 }));
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ steps: "ten" }));
    for (const [file, message] of [
      [unknown, `${unknown}: unknown field "stepz"`],
      [bad, `${bad}: field "steps" must be a number, not "ten"`],
    ] as const) {
      const r = sr2seSync([
        ...["train", "hsr-ee", "--ckpt", ckpt, "--data", dir],
        ...["--out", join(dir, "out"), "--config", file],
      ]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
  });
});
