/**
 * The words a CHAIR count recognizes: object names and the attributes (colours) that qualify them, each
 * canonical name with the synonyms and plurals that mean it. Words are matched case-insensitively, whole.
 * The shapes world's is `SHAPES_WORLD_VOCABULARY` of `@sr2se/data`, built from its shapes and colours.
 */
export interface ChairVocabulary {
  /** Canonical object name → other words for it (plurals included). */
  objects: Record<string, readonly string[]>;
  /** Canonical attribute (colour) → other words for it. An attribute right before an object name qualifies it. */
  attributes: Record<string, readonly string[]>;
  /** Words allowed between an attribute and its object ("small red circle", "red, small circle"). */
  fillers?: readonly string[];
}

/** A vocabulary compiled for lookups: every word (lower case) to its canonical name. */
export interface CompiledVocabulary {
  object: Map<string, string>;
  attribute: Map<string, string>;
  filler: Set<string>;
  /** Object words of more than one token ("traffic light"), longest first. */
  phrases: { tokens: string[]; canonical: string }[];
}

/** The lookup tables of a vocabulary; throws if a word means two different things. */
export function compileVocabulary(v: ChairVocabulary): CompiledVocabulary {
  const object = new Map<string, string>();
  const attribute = new Map<string, string>();
  const phrases: { tokens: string[]; canonical: string }[] = [];
  const add = (map: Map<string, string>, word: string, canonical: string, kind: string) => {
    const w = word.toLowerCase().trim();
    const prev = map.get(w) ?? (kind === "object" ? attribute.get(w) : object.get(w));
    if (prev !== undefined && prev !== canonical) {
      throw new Error(`chair vocabulary: "${w}" means both "${prev}" and "${canonical}"`);
    }
    map.set(w, canonical);
    if (kind === "object" && w.includes(" ")) phrases.push({ tokens: w.split(/\s+/), canonical });
  };
  for (const [c, words] of Object.entries(v.objects))
    for (const w of [c, ...words]) add(object, w, c, "object");
  for (const [c, words] of Object.entries(v.attributes))
    for (const w of [c, ...words]) add(attribute, w, c, "attribute");
  phrases.sort((a, b) => b.tokens.length - a.tokens.length);
  return { object, attribute, filler: new Set((v.fillers ?? []).map((w) => w.toLowerCase())), phrases };
}
