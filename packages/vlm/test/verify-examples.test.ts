import { type Sample, VISION_SR1_VERIFY_PROMPT } from "@sr2se/core";
import { describe, expect, it } from "vitest";
import { objectTokens, verifyChat, verifySampleIndices } from "../src/train/examples.js";

const sample = (i: number, extra: Partial<Sample> = {}): Sample =>
  ({
    id: `s${i}`,
    image: `images/${i}.png`,
    question: "<image>\nIs there a green triangle?",
    answer: "no",
    description: "A yellow triangle top-left. An orange circle bottom-right.",
    reasoning: "Find green triangle. Matches for triangles: yellow triangle top-left. Any green: no.",
    ...extra,
  }) as Sample;

describe("text-only self-reward examples", () => {
  it("ask Vision-SR1's verify prompt over the gold description and answer with the reasoning", () => {
    const chat = verifyChat(sample(0));
    expect(chat).not.toBeNull();
    const [user, assistant] = chat ?? [];
    expect(user.content.startsWith("Text description: A yellow triangle top-left.")).toBe(true);
    expect(user.content).toContain("\nQuestion: \nIs there a green triangle?\n");
    expect(user.content).not.toContain("<image>");
    expect(user.content.endsWith(VISION_SR1_VERIFY_PROMPT.split("{Question}\n")[1])).toBe(true);
    expect(assistant).toEqual({
      role: "assistant",
      content:
        "<think>Find green triangle. Matches for triangles: yellow triangle top-left. Any green: no.</think>\n\\boxed{no}",
    });
  });

  it("skip samples without a description or with a correction dialogue", () => {
    expect(verifyChat(sample(1, { description: undefined }))).toBeNull();
    expect(verifyChat({ ...sample(2), dialogue: { messages: [] } } as Sample)).toBeNull();
  });

  it("choose a seeded share of the eligible samples", () => {
    const samples = Array.from({ length: 40 }, (_, i) =>
      sample(i, i % 4 === 0 ? { description: undefined } : {}),
    );
    const a = verifySampleIndices(samples, 0.5, 7);
    expect(a).toHaveLength(15); // half of the 30 with a description
    expect(a.every((i) => i % 4 !== 0)).toBe(true);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(verifySampleIndices(samples, 0.5, 7)).toEqual(a);
    expect(verifySampleIndices(samples, 0.5, 8)).not.toEqual(a);
    expect(verifySampleIndices(samples, 0, 7)).toEqual([]);
    expect(verifySampleIndices(samples, 1, 7)).toHaveLength(30);
    expect(() => verifySampleIndices(samples, -0.1, 7)).toThrow(/verify_share must be in 0–1/);
  });
});

describe("object tokens", () => {
  it("are the scenes' object names with their leading space, once each, sorted", () => {
    const o = (color: string, shape: string) => ({
      color,
      shape,
      size: "large",
      cell: [0, 0] as [number, number],
    });
    const samples = [
      sample(0, { objects: [o("red", "circle"), o("blue", "star")] }),
      sample(1, { objects: [o("red", "circle")] }),
      sample(2),
    ];
    expect(objectTokens(samples)).toEqual([" blue star", " red circle"]);
    expect(objectTokens([sample(3)])).toEqual([]);
  });
});
