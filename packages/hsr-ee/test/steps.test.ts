import { describe, expect, it } from "vitest";
import { extractBoxedContent, formatReward, splitSteps, trialPrefix } from "../src/index.js";

const texts = (response: string) => splitSteps(response).map((s) => [s.part, s.text]);

describe("splitSteps", () => {
  const response =
    "<description>A red circle is at the top left. A blue square is at the center.</description>\n" +
    "<think>Count the circles.\nThere is one circle. So the answer is 1.</think>\n\\boxed{1}";

  it("makes step 0 the immediate answer, then description sentences, then think sentences and lines", () => {
    expect(texts(response)).toEqual([
      ["answer", ""],
      ["description", "A red circle is at the top left."],
      ["description", "A blue square is at the center."],
      ["think", "Count the circles."],
      ["think", "There is one circle."],
      ["think", "So the answer is 1."],
    ]);
  });

  it("gives each step's span in the response", () => {
    for (const step of splitSteps(response)) expect(response.slice(step.start, step.end)).toBe(step.text);
    expect(splitSteps(response).map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("does not split decimals or abbreviations", () => {
    const r = "<description>The bar is 3.5 cm long, e.g. about half. It is red.</description>";
    expect(texts(r)).toEqual([
      ["answer", ""],
      ["description", "The bar is 3.5 cm long, e.g. about half."],
      ["description", "It is red."],
    ]);
  });

  it("keeps a closing quote or bracket with its sentence and splits on ! and ?", () => {
    const r = '<think>It says "stop." Is it red? Yes! (It is.) Done</think>';
    expect(texts(r).slice(1)).toEqual([
      ["think", 'It says "stop."'],
      ["think", "Is it red?"],
      ["think", "Yes!"],
      ["think", "(It is.)"],
      ["think", "Done"],
    ]);
  });

  it("splits lines in <think> but not in <description>", () => {
    const r = "<description>a red\ncircle</description><think>a\n\nb</think>";
    expect(texts(r).slice(1)).toEqual([
      ["description", "a red\ncircle"],
      ["think", "a"],
      ["think", "b"],
    ]);
  });

  it("has only step 0 without tags, and none for an empty <think>", () => {
    expect(texts("The answer is 3. \\boxed{3}")).toEqual([["answer", ""]]);
    expect(texts("<description>One dot.</description><think>  </think>\\boxed{1}")).toEqual([
      ["answer", ""],
      ["description", "One dot."],
    ]);
  });

  it("reads an unclosed tag up to the next tag, the box, or the end", () => {
    expect(texts("<description>One dot. Two dots<think>So 3.\\boxed{3}").slice(1)).toEqual([
      ["description", "One dot."],
      ["description", "Two dots"],
      ["think", "So 3."],
    ]);
    expect(texts("<description>One dot. Then the output was cut").slice(1)).toEqual([
      ["description", "One dot."],
      ["description", "Then the output was cut"],
    ]);
  });
});

describe("trialPrefix", () => {
  const response =
    "<description>One dot. Two dots.</description>\n<think>Add them.\nSo 3.</think>\n\\boxed{3}";

  it("is \\boxed{ alone after step 0", () => {
    expect(trialPrefix(response, 0)).toBe("\\boxed{");
  });

  it("closes the open description after a description step", () => {
    expect(trialPrefix(response, 1)).toBe("<description>One dot.</description>\n\\boxed{");
  });

  it("closes the open think after a think step, keeping the closed description", () => {
    expect(trialPrefix(response, 3)).toBe(
      "<description>One dot. Two dots.</description>\n<think>Add them.</think>\n\\boxed{",
    );
  });

  it("once the answer is written, has the format Vision-SR1 rewards and boxes that answer", () => {
    const trial = `${trialPrefix(response, 4)}3}`;
    expect(formatReward(trial)).toBe(1);
    expect(extractBoxedContent(trial)).toBe("3");
  });

  it("refuses a step the response does not have, naming it", () => {
    expect(() => trialPrefix(response, 5)).toThrow(
      "trialPrefix: step 5 does not exist (the response has steps 0 to 4)",
    );
    expect(() => trialPrefix(response, -1)).toThrow(RangeError);
    expect(() => trialPrefix(response, 1.5)).toThrow(RangeError);
  });
});
