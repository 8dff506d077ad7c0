import { describe, expect, it } from "vitest";
import { checkFormat } from "../src/index.js";

describe("format check", () => {
  const full = "<description>a red circle</description>\n<think>one circle</think>\n\\boxed{1}";
  it("strict is Vision-SR1's format reward: description, think, boxed answer and nothing after", () => {
    expect(checkFormat(full, "strict")).toBe(true);
    expect(
      checkFormat("< description >a red circle</ description > <think>x</think> \\boxed{1}", "strict"),
    ).toBe(true);
    expect(checkFormat(`${full} and more`, "strict")).toBe(false);
    expect(checkFormat("<description>a red circle</description> \\boxed{1}", "strict")).toBe(false);
    expect(checkFormat("<think>x</think><description>a</description>\\boxed{1}", "strict")).toBe(false);
    expect(checkFormat("<description></description><think>x</think>\\boxed{1}", "strict")).toBe(false);
  });
  it("description needs a description and a boxed answer; off needs only the box", () => {
    expect(checkFormat("<description>a red circle</description> \\boxed{1}", "description")).toBe(true);
    expect(checkFormat("<think>x</think> \\boxed{1}", "description")).toBe(false);
    expect(checkFormat("\\boxed{1}", "off")).toBe(true);
    expect(checkFormat("1", "off")).toBe(false);
  });
});
