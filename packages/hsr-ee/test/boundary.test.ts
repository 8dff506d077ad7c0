import { describe, expect, it } from "vitest";
import { boxClosedAt, completedSteps, splitSteps, trialPrefix, trialSuffix } from "../src/index.js";

const response =
  "<description>A red circle top-left. A blue square center.</description>\n<think>Listed: red circle.\nCount 1.</think>\n\\boxed{1}";

describe("step boundaries while decoding", () => {
  it("a partial response that ends where step k ends has completed k steps and continues as trialPrefix", () => {
    const steps = splitSteps(response);
    for (const step of steps.slice(1)) {
      const partial = response.slice(0, step.end);
      expect(completedSteps(partial)).toBe(step.index);
      expect(partial + trialSuffix(partial)).toBe(trialPrefix(response, step.index));
    }
  });

  it("an unfinished step does not count until its sentence, line or tag ends", () => {
    expect(completedSteps("")).toBe(0);
    expect(completedSteps("<description>A red")).toBe(0);
    expect(completedSteps("<description>A red circle top-left. A blue")).toBe(1);
    expect(completedSteps("<description>A red circle</description>")).toBe(1);
    expect(completedSteps("<description>A.</description>\n<think>Listed: red\n")).toBe(2);
  });

  it("the suffix closes the open tag once, or opens the box alone before any step", () => {
    expect(trialSuffix("")).toBe("\\boxed{");
    expect(trialSuffix("<description>A red circle.")).toBe("</description>\n\\boxed{");
    expect(trialSuffix("<description>A red circle</description>")).toBe("\n\\boxed{");
    expect(trialSuffix("<description>A.</description>\n<think>So 1.")).toBe("</think>\n\\boxed{");
  });

  it("the box closes at the brace that matches its depth", () => {
    expect(boxClosedAt("1")).toBe(-1);
    expect(boxClosedAt("1}")).toBe(2);
    expect(boxClosedAt("\\frac{1}{2}} tail")).toBe(12);
  });
});
