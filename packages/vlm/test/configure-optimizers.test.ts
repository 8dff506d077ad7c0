import { describe, expect, it } from "vitest";
import { configureOptimizers, noDecayNames } from "../src/model/configure-optimizers.js";
import { tinyVlm } from "./tiny.js";

describe("configureOptimizers", () => {
  it("decays the matrices of Linear layers only: not biases, norms or embedding tables", () => {
    const vlm = tinyVlm(1, false);
    const noDecay = noDecayNames(vlm);
    expect(noDecay.has("language_model.model.embed_tokens.weight")).toBe(true);
    expect(noDecay.has("vision_tower.embeddings.position_embedding.weight")).toBe(true);
    expect(noDecay.has("language_model.model.norm.weight")).toBe(true);
    expect(noDecay.has("vision_tower.encoder.layers.0.layer_norm1.bias")).toBe(true);
    expect(noDecay.has("multi_modal_projector.linear_1.bias")).toBe(true);
    expect(noDecay.has("language_model.model.layers.0.self_attn.q_proj.weight")).toBe(false);
    expect(noDecay.has("language_model.lm_head.weight")).toBe(false);
    const opt = configureOptimizers(vlm, { lr: 0.01, weightDecay: 0.1 });
    expect(opt.paramGroups.map((g) => [g.name, g.weightDecay, g.lr])).toEqual([
      ["decay", 0.1, 0.01],
      ["no_decay", 0, 0.01],
    ]);
    const listed = opt.paramGroups.flatMap((g) => g.params);
    expect(new Set(listed)).toEqual(new Set(vlm.parameters()));
  });

  it("scales a group's learning rate and freezes what is scaled by 0", () => {
    const vlm = tinyVlm(1);
    const opt = configureOptimizers(vlm, {
      lr: 0.01,
      weightDecay: 0.1,
      lrScale: (n) => (n.startsWith("vision_tower.") ? 0 : n.startsWith("multi_modal_projector.") ? 0.5 : 1),
    });
    expect(opt.paramGroups.map((g) => g.name).sort()).toEqual([
      "decay",
      "decay@0.5",
      "no_decay",
      "no_decay@0.5",
    ]);
    expect(opt.paramGroups.find((g) => g.name === "decay@0.5")?.lr).toBe(0.005);
    const vision = vlm.vision_tower.parameters();
    expect(vision.every((p) => !p.requiresGrad)).toBe(true);
    // frozen parameters stay in the state dict (they are parameters, just not trained)
    expect(Object.keys(vlm.stateDict())).toContain("vision_tower.post_layernorm.weight");
    expect(() => configureOptimizers(vlm, { lr: 0.01, weightDecay: 0, lrScale: () => 0 })).toThrow(
      /every parameter is frozen/,
    );
    expect(() => configureOptimizers(vlm, { lr: 0.01, weightDecay: 0, lrScale: () => -1 })).toThrow(
      /learning-rate scale of .* is -1/,
    );
  });
});
