import { describe, expect, it } from "vitest";
import { VISION_SR1_VERIFY_PROMPT, verifyPrompt } from "../src/index.js";

describe("verifyPrompt", () => {
  it("is Vision-SR1's ABS_Verify_Prompt filled as its trainer fills it", () => {
    // verl/trainer/ray_trainer.py:81 of zli12321/Vision-SR1, as Python prints the filled string
    expect(verifyPrompt("A red circle.", "<image>How many circles are there?")).toBe(
      "Text description: A red circle.\nQuestion: How many circles are there?\nYou are provided a text description of a problem and a question. Determine the answer to the question based on the text description. First provide an internal step-by-step reasoning within <think> </think> tags, then provide a single word or phrase answer in \\boxed{}.",
    );
    expect(
      VISION_SR1_VERIFY_PROMPT.startsWith("Text description: {Description}\nQuestion: {Question}\n"),
    ).toBe(true);
  });

  it("replaces every placeholder, the description's own too, and takes $ literally", () => {
    expect(verifyPrompt("cost $& {Question}", "Q?").split("\n").slice(0, 2)).toEqual([
      "Text description: cost $& Q?",
      "Question: Q?",
    ]);
  });
});
