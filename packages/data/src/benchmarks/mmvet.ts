import type { Rng } from "@sr2se/core";
import type { ShapeObject } from "../shapes/scene.js";
import { category, cellName, plural, SHAPES } from "../shapes/vocabulary.js";

/** An MM-Vet-style open question: MM-Vet's fields, the answer using `<AND>` / `<OR>`. */
export interface MmVetProblem {
  id: string;
  imagename: string;
  image: string;
  question: string;
  answer: string;
  capability: string[];
}

const NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/**
 * An open question about a scene in MM-Vet's style: name every object (rec, `<AND>`), what is at a
 * place (rec + spat), how many of a shape (rec, digits `<OR>` words), or a sum of two counts (rec + math).
 */
export function mmvetProblem(
  rng: Rng,
  objects: readonly ShapeObject[],
  image: string,
  n: number,
): MmVetProblem {
  const id = `v1_${n}`;
  const base = { id, imagename: image.split("/").pop() ?? image, image };
  const kind = rng.int(0, 4);
  if (kind === 0) {
    const names = [...new Set(objects.map(category))];
    return {
      ...base,
      question: "What objects are in the image? Name each one by colour and shape.",
      answer: names.join(" <AND> "),
      capability: ["rec"],
    };
  }
  if (kind === 1) {
    const o = rng.choice(objects);
    return {
      ...base,
      question: `What is the object at ${cellName(o.cell)}? Give its colour and shape.`,
      answer: category(o),
      capability: ["rec", "spat"],
    };
  }
  const shapeA = rng.bool(0.8) ? rng.choice(objects).shape : rng.choice(SHAPES);
  const a = objects.filter((o) => o.shape === shapeA).length;
  if (kind === 2) {
    return {
      ...base,
      question: `How many ${plural(shapeA)} are there?`,
      answer: `${a} <OR> ${NUMBER_WORDS[a]}`,
      capability: ["rec"],
    };
  }
  const shapeB = rng.choice(SHAPES.filter((s) => s !== shapeA));
  const total = a + objects.filter((o) => o.shape === shapeB).length;
  return {
    ...base,
    question: `How many ${plural(shapeA)} and ${plural(shapeB)} are there in total?`,
    answer: `${total} <OR> ${NUMBER_WORDS[total]}`,
    capability: ["rec", "math"],
  };
}
