/** Words of a text as a word-level tokenizer sees them: lower-case runs of letters or digits, and each symbol. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+|[0-9]+|[^\sa-z0-9]/g) ?? [];
}

/** Adds the words of a sample's question, response and dialogue turns to `into` and returns it. */
export function textVocabulary(
  sample: { question: string; response?: string; dialogue?: { messages: { content: string }[] } },
  into: Set<string> = new Set(),
): Set<string> {
  const texts = [sample.question, sample.response ?? ""];
  for (const m of sample.dialogue?.messages ?? []) texts.push(m.content);
  for (const t of texts) for (const w of words(t)) into.add(w);
  return into;
}
