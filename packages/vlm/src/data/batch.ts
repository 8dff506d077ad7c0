// Collating token sequences into one padded batch for the model: the `<image>` placeholder becomes
// one position per image token, rows are padded (right for training, left for generation).
import { tensor } from "@sr2se/tensor";
import type { ModelInputs } from "../model/vlm-model.js";
import { IGNORE_INDEX } from "./encode.js";

/** One sequence of a batch: token ids with at most one `<image>` placeholder, its labels, its pixels. */
export interface SequenceInput {
  ids: number[];
  /** Next-token targets, same length as ids (IGNORE_INDEX where there is no loss). */
  labels?: number[];
  /** Normalized CHW pixels of the image, when the sequence has one. */
  pixels?: Float32Array;
  /**
   * Loss weight of each target token, in order (one per label that is not IGNORE_INDEX); absent: 1
   * each. `VLM.loss` then returns the weighted mean Σ wᵢ·ℓᵢ / Σ wᵢ over the batch's tokens.
   */
  weights?: number[];
}

/** A collated batch: model inputs plus labels aligned with the expanded positions. */
export interface CollatedBatch {
  inputs: ModelInputs;
  /** Labels [batch · length] (IGNORE_INDEX on pads and image positions). */
  labels: Int32Array;
  /** Per row: the number of real (non-pad) positions. */
  lengths: number[];
  /** Per row: the number of left pads. */
  leftPad: number[];
}

/** Returns ids with the `<image>` placeholder expanded to `imageTokens` copies, and labels to match. */
export function expandImage(
  seq: SequenceInput,
  imageId: number,
  imageTokens: number,
): { ids: number[]; labels: number[]; imageAt: number } {
  const at = seq.ids.indexOf(imageId);
  const labels = seq.labels ?? new Array<number>(seq.ids.length).fill(IGNORE_INDEX);
  if (at < 0 || !seq.pixels) {
    if (at >= 0) throw new Error("collate: a sequence has an <image> placeholder but no image");
    return { ids: seq.ids, labels, imageAt: -1 };
  }
  if (seq.ids.indexOf(imageId, at + 1) >= 0)
    throw new Error("collate: a sequence has more than one <image> placeholder");
  return {
    ids: [...seq.ids.slice(0, at), ...new Array<number>(imageTokens).fill(imageId), ...seq.ids.slice(at + 1)],
    labels: [
      ...labels.slice(0, at),
      ...new Array<number>(imageTokens).fill(IGNORE_INDEX),
      ...labels.slice(at + 1),
    ],
    imageAt: at,
  };
}

/** Returns a padded batch of sequences (pad on the right, or on the left for generation). */
export function collate(
  seqs: SequenceInput[],
  opts: {
    imageId: number;
    imageTokens: number;
    padId: number;
    imageShape: [number, number, number];
    padLeft?: boolean;
    padMultiple?: number;
  },
): CollatedBatch {
  const expanded = seqs.map((s) => expandImage(s, opts.imageId, opts.imageTokens));
  const B = seqs.length;
  // Lengths rounded up to a multiple keep the set of tensor shapes small, so buffers are reused.
  const m = opts.padMultiple ?? 1;
  const T = Math.ceil(Math.max(1, ...expanded.map((e) => e.ids.length)) / m) * m;
  const ids = new Int32Array(B * T).fill(opts.padId);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  const slots = new Int32Array(B * T).fill(-1);
  const withImage = expanded.map((e, i) => (e.imageAt >= 0 ? i : -1)).filter((i) => i >= 0);
  const [C, H, W] = opts.imageShape;
  const plane = C * H * W;
  const pixels = new Float32Array(withImage.length * plane);
  const leftPad: number[] = [];
  expanded.forEach((e, b) => {
    const pad = opts.padLeft ? T - e.ids.length : 0;
    leftPad.push(pad);
    for (let j = 0; j < e.ids.length; j++) {
      ids[b * T + pad + j] = e.ids[j];
      labels[b * T + pad + j] = e.labels[j];
    }
    if (e.imageAt >= 0) {
      const img = withImage.indexOf(b);
      pixels.set(seqs[b].pixels as Float32Array, img * plane);
      for (let j = 0; j < opts.imageTokens; j++)
        slots[b * T + pad + e.imageAt + j] = img * opts.imageTokens + j;
    }
  });
  return {
    inputs: {
      ids,
      batch: B,
      length: T,
      pixels: withImage.length ? tensor(pixels, { shape: [withImage.length, C, H, W] }) : null,
      imageSlots: slots,
    },
    labels,
    lengths: expanded.map((e) => e.ids.length),
    leftPad,
  };
}
