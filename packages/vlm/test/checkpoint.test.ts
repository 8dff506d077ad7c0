import { mkdtemp, readdir, readFile, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { VLM } from "../src/vlm.js";
import { tinyPng, tinyVlm } from "./tiny.js";

async function saved(): Promise<{ vlm: VLM; dir: string }> {
  const vlm = tinyVlm(5, false);
  const dir = join(await mkdtemp(join(tmpdir(), "vlm-ckpt-")), "ckpt");
  await vlm.save(dir);
  return { vlm, dir };
}

async function rewriteWeights(dir: string, edit: (t: Map<string, io.HostArray>) => void): Promise<void> {
  const file = join(dir, "model.safetensors");
  const { tensors } = io.decodeSafetensors(await readFile(file), file);
  edit(tensors);
  await writeFile(file, io.encodeSafetensors(tensors));
}

describe("checkpoints", () => {
  it("save → load round-trips every parameter exactly, and generation with it", async () => {
    const { vlm, dir } = await saved();
    expect((await readdir(dir)).sort()).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
    const back = await VLM.load(dir);
    const a = vlm.namedParameters();
    const b = back.namedParameters();
    expect(b.map(([n]) => n)).toEqual(a.map(([n]) => n));
    for (let i = 0; i < a.length; i++)
      expect(Array.from(await b[i][1].data())).toEqual(Array.from(await a[i][1].data()));
    const req = [
      {
        image: tinyPng(0, 200, 0),
        messages: [{ role: "user" as const, content: "How many circles are there?" }],
      },
    ];
    expect((await back.generate(req, { maxTokens: 6 }))[0].text).toBe(
      (await vlm.generate(req, { maxTokens: 6 }))[0].text,
    );
  });

  it("uses Hugging Face names for the language tower", async () => {
    const { dir } = await saved();
    const names = [
      ...io.decodeSafetensors(await readFile(join(dir, "model.safetensors")), "x").tensors.keys(),
    ];
    expect(names).toContain("language_model.model.layers.0.self_attn.q_proj.weight");
    expect(names).toContain("language_model.model.embed_tokens.weight");
    expect(names).toContain("language_model.lm_head.weight");
    expect(names).toContain("vision_tower.encoder.layers.0.mlp.fc1.weight");
  });

  it("names a missing tensor", async () => {
    const { dir } = await saved();
    await rewriteWeights(dir, (t) => t.delete("language_model.model.norm.weight"));
    await expect(VLM.load(dir)).rejects.toThrow(
      /model\.safetensors: tensor "language_model\.model\.norm\.weight" is missing/,
    );
  });

  it("names a tensor of the wrong shape", async () => {
    const { dir } = await saved();
    await rewriteWeights(dir, (t) =>
      t.set("language_model.model.norm.weight", {
        dtype: "float32",
        shape: [2, 16],
        data: new Float32Array(32),
      }),
    );
    await expect(VLM.load(dir)).rejects.toThrow(
      /tensor "language_model\.model\.norm\.weight" has shape \[2, 16\], the model expects \[32\]/,
    );
  });

  it("names a tensor of the wrong dtype", async () => {
    const { dir } = await saved();
    await rewriteWeights(dir, (t) =>
      t.set("language_model.model.norm.weight", { dtype: "int32", shape: [32], data: new Int32Array(32) }),
    );
    await expect(VLM.load(dir)).rejects.toThrow(
      /tensor "language_model\.model\.norm\.weight" has dtype int32/,
    );
  });

  it("says a truncated weights file is truncated", async () => {
    const { dir } = await saved();
    const file = join(dir, "model.safetensors");
    const size = (await readFile(file)).length;
    await truncate(file, size - 100);
    await expect(VLM.load(dir)).rejects.toThrow(/model\.safetensors: .*truncated file/);
    await truncate(file, 5);
    await expect(VLM.load(dir)).rejects.toThrow(/model\.safetensors: .*truncated file/);
  });

  it("names a config that does not fit the weights, and a missing file", async () => {
    const { dir } = await saved();
    const cfgFile = join(dir, "config.json");
    const cfg = JSON.parse(await readFile(cfgFile, "utf8"));
    cfg.text_config.intermediate_size = 48;
    await writeFile(cfgFile, JSON.stringify(cfg));
    await expect(VLM.load(dir)).rejects.toThrow(
      /mlp\.gate_proj\.weight" has shape \[64, 32\], the model expects \[48, 32\]/,
    );
    await expect(VLM.load(join(dir, "nope"))).rejects.toThrow(/checkpoint folder not found/);
  });

  it("refuses a corrupt safetensors header", () => {
    const bad = new Uint8Array(17);
    new DataView(bad.buffer).setBigUint64(0, 9n, true);
    bad.set(new TextEncoder().encode("{not json"), 8);
    expect(() => io.decodeSafetensors(bad, "w.safetensors")).toThrow(
      /w\.safetensors: header is not valid JSON/,
    );
  });
});
