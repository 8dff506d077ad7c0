// A tiny policy for the tensor entry's tests: a small VLM overfit on three visual questions whose
// gold responses have HSR-EE's steps, so it writes descriptions and reasoning greedily in seconds.
import { encodePng } from "@sr2se/data";
import { optim, tidy } from "@sr2se/tensor";
import { defaultConfig, trainBpe, useFastestBackend, VLM, VlmTokenizer } from "@sr2se/vlm";
import { asTinyModel, squareRgb } from "../../../test-support/tiny-vlm.js";
import { truncatedResponses } from "../src/index.js";

await useFastestBackend();

/** The questions, their gold responses and answers. */
export const items = [
  {
    question: "How many circles are there?",
    response:
      "<description>A red circle top-left. A red circle center.</description>\n<think>Listed: two circles.\nCount 2.</think>\n\\boxed{2}",
    answer: "2",
    color: [255, 0, 0],
  },
  {
    question: "Is there a blue square?",
    response:
      "<description>A blue square center.</description>\n<think>Listed: blue square. Yes.</think>\n\\boxed{yes}",
    answer: "yes",
    color: [0, 0, 255],
  },
  {
    question: "Is there a green star?",
    response:
      "<description>A green star top. A green star bottom.</description>\n<think>Listed: green star.</think>\n\\boxed{yes}",
    answer: "yes",
    color: [0, 200, 0],
  },
];

/** Returns each item's image as a PNG. */
export const images = items.map((it) =>
  encodePng(squareRgb(it.color[0], it.color[1], it.color[2], 20), 20, 20),
);

/** Returns a tiny VLM trained until it writes the gold responses and answers after any step (deterministic). */
export async function tinyPolicy(steps = 150): Promise<VLM> {
  const corpus = items.flatMap((it) => [it.question, it.response]);
  const tok = VlmTokenizer.fromJSON(trainBpe(Array(10).fill(corpus).flat(), { vocabSize: 320 }));
  const c = asTinyModel(defaultConfig(tok.vocabSize, { image: tok.imageId, eos: tok.eosId }));
  const vlm = new VLM(c, tok, 1);
  const pixels = await Promise.all(images.map((im) => vlm.pixelsOf(im)));
  const seqs = items.flatMap((it, i) =>
    [it.response, ...truncatedResponses(it.response)].map((target) => ({
      ...vlm.encodeCompletion([{ role: "user", content: it.question }], target, true),
      pixels: pixels[i],
    })),
  );
  const opt = new optim.AdamW(vlm.parameters(), { lr: 1e-2, weightDecay: 0 });
  for (let s = 0; s < steps; s++) {
    tidy(() => vlm.loss(seqs).loss.backward());
    opt.step();
    opt.zeroGrad();
  }
  return vlm;
}
