import type { ShapeObject } from "./scene.js";
import { category, cellName } from "./vocabulary.js";

/** "a" or "an" before `word`, as POPE's question template chooses it. */
export function article(word: string): string {
  return /^[aeiou]/.test(word) ? "an" : "a";
}

/** The full phrase of an object: "small red circle top-left". */
export function objectPhrase(o: ShapeObject): string {
  return `${o.size} ${o.color} ${o.shape} ${cellName(o.cell)}`;
}

/** The short name of an object with its place: "red circle top-left". */
export function placedName(o: ShapeObject): string {
  return `${category(o)} ${cellName(o.cell)}`;
}

/**
 * The canonical, complete description of a scene: one sentence an object, in reading order
 * ("A small red circle top-left. A large blue square center.").
 */
export function describeScene(objects: readonly ShapeObject[]): string {
  return objects
    .map((o) => {
      const p = objectPhrase(o);
      return `${article(p) === "an" ? "An" : "A"} ${p}.`;
    })
    .join(" ");
}
