import { describe, expect, it } from "vitest";
import { encodeChat } from "../src/data/encode.js";
import { FORMAT_TOKENS, SPECIAL_TOKENS, trainBpe } from "../src/tokenizer/bpe-trainer.js";
import { VlmTokenizer } from "../src/tokenizer/tokenizer.js";

const corpus = [
  "<description>A red circle top-left. A blue square center.</description><think>The question asks for circles. Listed: red circle. Count 1.</think>\\boxed{1}",
  "How many circles are there?",
  "Is there a green triangle in the image? Answer yes or no.",
];
const tok = VlmTokenizer.fromJSON(trainBpe(Array(20).fill(corpus).flat(), { vocabSize: 400 }));

describe("BPE tokenizer", () => {
  it("round-trips chat text exactly, special tokens included", () => {
    const text = tok.renderChat(
      [
        { role: "user", content: "How many circles are there?" },
        { role: "assistant", content: corpus[0] },
      ],
      { image: true },
    );
    expect(tok.decode(tok.encode(text), true)).toBe(text);
  });

  it("keeps special and format tokens atomic", () => {
    for (const t of [...Object.values(SPECIAL_TOKENS), ...FORMAT_TOKENS])
      expect(tok.encode(t)).toHaveLength(1);
    expect(tok.encode("<description>red</description>")[0]).toBe(tok.encode("<description>")[0]);
  });

  it("learns merges so common words take few tokens", () => {
    expect(tok.encode(" circle").length).toBeLessThanOrEqual(2);
    expect(tok.vocabSize).toBeLessThanOrEqual(400);
  });

  it("is deterministic", () => {
    const again = trainBpe(Array(20).fill(corpus).flat(), { vocabSize: 400 });
    expect(JSON.stringify(again)).toBe(JSON.stringify(tok.json));
  });

  it("refuses a vocabulary smaller than the bytes and special tokens", () => {
    expect(() => trainBpe(corpus, { vocabSize: 100 })).toThrow(/below the 26\d byte and special tokens/);
  });

  it("drops special tokens when decoding for display", () => {
    const ids = tok.encode(`${SPECIAL_TOKENS.imStart}assistant\nyes${SPECIAL_TOKENS.imEnd}`);
    expect(tok.decode(ids)).toBe("assistant\nyes");
  });

  it("decodes no tokens as the empty text (a response that stops at once)", () => {
    expect(tok.decode([])).toBe("");
  });
});

describe("encodeChat", () => {
  it("puts labels on the target tokens only, shifted by one", () => {
    const ex = encodeChat(
      tok,
      [
        { role: "user", content: "How many circles are there?" },
        { role: "assistant", content: "\\boxed{1}" },
      ],
      { image: true },
    );
    const target = ex.ids.slice(ex.promptLength);
    expect(tok.decode(target, true)).toBe(`\\boxed{1}${SPECIAL_TOKENS.imEnd}`);
    const labelled = ex.labels.map((l, i) => (l >= 0 ? i : -1)).filter((i) => i >= 0);
    expect(labelled[0]).toBe(ex.promptLength - 1);
    expect(labelled.length).toBe(target.length);
    for (const i of labelled) expect(ex.labels[i]).toBe(ex.ids[i + 1]);
    expect(tok.decode(ex.ids.slice(0, ex.promptLength), true)).toMatch(
      /<image>\nHow many circles are there\?<\|im_end\|>\n<\|im_start\|>assistant\n$/,
    );
  });

  it("refuses a chat that does not end with the assistant", () => {
    expect(() => encodeChat(tok, [{ role: "user", content: "q" }], { image: false })).toThrow(
      /last turn must be the assistant/,
    );
  });
});
