import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { noGrad, tidy } from "@sr2se/tensor";
import { describe, expect, it } from "vitest";
import { readSafetensorsFile } from "../src/checkpoint/checkpoint.js";
import { loadLlamaWeights } from "../src/checkpoint/weights.js";
import { defaultConfig, type TextConfig } from "../src/config.js";
import { VlmForConditionalGeneration } from "../src/model/vlm-model.js";

const dir = join(import.meta.dirname, "fixtures/llama-tiny");

describe("language tower against a PyTorch Llama", () => {
  it("loads a Hugging Face Llama checkpoint and matches its logits within 1e-4", async () => {
    const text = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as TextConfig;
    const config = { ...defaultConfig(text.vocab_size, { image: 0, eos: 1 }), text_config: text };
    const model = new VlmForConditionalGeneration(config, 7);
    loadLlamaWeights(
      model.language_model,
      (await readSafetensorsFile(join(dir, "model.safetensors"))).tensors,
      "model.safetensors",
      text.tie_word_embeddings,
    );
    const { tensors: expected } = await readSafetensorsFile(join(dir, "expected.safetensors"));
    const ids = expected.get("input_ids");
    const want = expected.get("logits");
    if (!ids || !want) throw new Error("fixture lacks input_ids or logits");
    const [B, T] = ids.shape;
    const logits = noGrad(() =>
      tidy(() => {
        const inputs = {
          ids: Int32Array.from(ids.data),
          batch: B,
          length: T,
          pixels: null,
          imageSlots: new Int32Array(B * T).fill(-1),
        };
        return model.logits(model.forward(inputs));
      }),
    );
    expect(logits.shape).toEqual(want.shape);
    const got = await logits.data();
    let maxErr = 0;
    for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want.data[i]));
    expect(maxErr).toBeLessThan(1e-4);
  });
});
