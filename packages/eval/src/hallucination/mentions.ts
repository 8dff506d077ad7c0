import type { CompiledVocabulary } from "./vocabulary.js";

/** An object a text mentions: its canonical name, the attribute before it (if any) and the words as written. */
export interface Mention {
  object: string;
  attribute: string | null;
  text: string;
  /** Token index of the object word. */
  index: number;
  /** A negation ("no", "not", "without", …) comes shortly before it in the same clause. */
  negated: boolean;
}

const NEGATIONS = new Set([
  "no",
  "not",
  "without",
  "nor",
  "neither",
  "none",
  "zero",
  "never",
  "isn't",
  "aren't",
]);
const CLAUSE_BREAK = /[.;:!?\n]/;

/** Lower-case word tokens, with a clause number each (a new clause after . ; : ! ? or a newline). */
function tokenize(text: string): { word: string; clause: number }[] {
  const out: { word: string; clause: number }[] = [];
  let clause = 0;
  for (const m of text
    .toLowerCase()
    .replaceAll("’", "'")
    .matchAll(/[\p{L}\p{N}']+|[^\p{L}\p{N}'\s]/gu)) {
    const t = m[0];
    if (CLAUSE_BREAK.test(t)) clause++;
    else if (/[\p{L}\p{N}]/u.test(t)) out.push({ word: t.replace(/^'+|'+$/g, ""), clause });
  }
  return out;
}

/**
 * Every object mention of a text, in order: an object word (or phrase) of the vocabulary, qualified by the
 * attribute word before it (fillers such as sizes may stand between). Each mention counts, repeats included,
 * as CHAIR counts them.
 */
export function findMentions(text: string, vocab: CompiledVocabulary): Mention[] {
  const tokens = tokenize(text);
  const mentions: Mention[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let object: string | undefined;
    let span = 1;
    for (const p of vocab.phrases) {
      if (p.tokens.every((t, k) => tokens[i + k]?.word === t)) {
        object = p.canonical;
        span = p.tokens.length;
        break;
      }
    }
    object ??= vocab.object.get((tokens[i] as { word: string }).word);
    if (object === undefined) continue;
    let attribute: string | null = null;
    let j = i - 1;
    while (
      j >= 0 &&
      vocab.filler.has((tokens[j] as { word: string }).word) &&
      tokens[j]?.clause === tokens[i]?.clause
    )
      j--;
    if (j >= 0 && tokens[j]?.clause === tokens[i]?.clause)
      attribute = vocab.attribute.get((tokens[j] as { word: string }).word) ?? null;
    let negated = false;
    for (let k = i - 1; k >= Math.max(0, i - 4); k--) {
      const t = tokens[k] as { word: string; clause: number };
      if (t.clause !== tokens[i]?.clause) break;
      if (NEGATIONS.has(t.word) || t.word.endsWith("n't")) negated = true;
    }
    const start = attribute !== null ? j : i;
    mentions.push({
      object,
      attribute,
      text: tokens
        .slice(start, i + span)
        .map((t) => t.word)
        .join(" "),
      index: i,
      negated,
    });
    i += span - 1;
  }
  return mentions;
}
