import { describe, expect, it } from "vitest";
import { countHallucinations, createMentionExtractor } from "../src/index.js";

const extract = createMentionExtractor();
const objects = [
  { shape: "circle", color: "red" },
  { shape: "square", color: "blue" },
];

describe("object mentions and hallucination counts", () => {
  it("pairs a shape with the colour said before it, plurals and sizes included", () => {
    expect(extract("Two small red circles and a big blue square.")).toEqual([
      { shape: "circle", color: "red" },
      { shape: "square", color: "blue" },
    ]);
  });

  it("counts each distinct object once and drops a bare shape that a coloured one covers", () => {
    expect(extract("A red circle. The circle is left of another red circle.")).toEqual([
      { shape: "circle", color: "red" },
    ]);
  });

  it("skips negated mentions", () => {
    expect(extract("There is no green triangle, only a red circle.")).toEqual([
      { shape: "circle", color: "red" },
    ]);
  });

  it("counts mentions missing from the image as hallucinated (CHAIR_i counts)", () => {
    expect(countHallucinations("a red circle, a green star and a blue square", objects)).toEqual({
      mentioned: 3,
      hallucinated: 1,
    });
    expect(countHallucinations("a red square", objects)).toEqual({ mentioned: 1, hallucinated: 1 });
    expect(countHallucinations("a square", objects)).toEqual({ mentioned: 1, hallucinated: 0 });
    expect(countHallucinations("nothing to see", objects)).toEqual({ mentioned: 0, hallucinated: 0 });
  });

  it("treats grey/gray and oval/ellipse as the same word", () => {
    expect(countHallucinations("a grey oval", [{ shape: "ellipse", color: "gray" }])).toEqual({
      mentioned: 1,
      hallucinated: 0,
    });
  });

  it("takes a vocabulary of its own", () => {
    const custom = createMentionExtractor({ colors: ["teal"], shapes: ["blob"] });
    expect(custom("a teal blob and a red circle")).toEqual([{ shape: "blob", color: "teal" }]);
  });
});
