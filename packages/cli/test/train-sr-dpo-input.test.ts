// Bad input to `sr2se train sr-dpo` is refused with file:line errors before any model is loaded.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bin } from "./cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "sr2se-srdpo-input-"));
const run = (args: string[]) =>
  spawnSync(process.execPath, [bin, "train", "sr-dpo", ...args], { encoding: "utf8" });
const pair = (id: string, image: string) =>
  JSON.stringify({
    id,
    sample_id: `s-${id}`,
    image,
    prompt: "Is there a red circle?",
    chosen: "\\boxed{yes}",
    rejected: "\\boxed{no}",
  });

describe("sr2se train sr-dpo bad input", () => {
  it("names the pair whose image does not exist", () => {
    writeFileSync(path.join(dir, "ok.png"), "");
    const pairs = path.join(dir, "pairs.jsonl");
    writeFileSync(pairs, `${pair("1", "ok.png")}\n${pair("2", "images/missing.png")}\n`);
    const r = run(["--ckpt", path.join(dir, "no-ckpt"), "--pairs", pairs, "--out", path.join(dir, "out")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${pairs}:2: image "images/missing.png" not found`);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("refuses a pair image that leaves the dataset folder, naming file, line and field", () => {
    const pairs = path.join(dir, "escape.jsonl");
    writeFileSync(pairs, `${pair("1", "ok.png")}\n${pair("2", "../../etc/hostname")}\n`);
    const r = run(["--ckpt", path.join(dir, "no-ckpt"), "--pairs", pairs, "--out", path.join(dir, "out")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${pairs}:2: field "image": "../../etc/hostname" leaves the dataset folder`);
  });

  it("names the line of a malformed pair", () => {
    const pairs = path.join(dir, "bad.jsonl");
    writeFileSync(pairs, `${pair("1", "ok.png")}\n{"id":"2","prompt":"x"}\n`);
    const r = run(["--ckpt", path.join(dir, "no-ckpt"), "--pairs", pairs, "--out", path.join(dir, "out")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/bad\.jsonl:2:/);
  });

  it("refuses an empty pairs file", () => {
    const pairs = path.join(dir, "empty.jsonl");
    writeFileSync(pairs, "");
    const r = run(["--ckpt", path.join(dir, "no-ckpt"), "--pairs", pairs, "--out", path.join(dir, "out")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("no preference pairs");
  });

  it("rejects a bad option value", () => {
    const r = run(["--ckpt", "x", "--pairs", "y", "--out", "z", "--beta", "-1"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--beta/);
  });
});
