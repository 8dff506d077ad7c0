// The second, text-only pass of Vision-SR1's self-reward: the same policy answers the question from
// its own description, without the image. The prompt is Vision-SR1's `ABS_Verify_Prompt`
// (verl/trainer/ray_trainer.py:81), filled the way its trainer fills it (ray_trainer.py:671-675).

/** Vision-SR1's `ABS_Verify_Prompt`, verbatim. */
export const VISION_SR1_VERIFY_PROMPT =
  "Text description: {Description}\nQuestion: {Question}\nYou are provided a text description of a problem and a question. Determine the answer to the question based on the text description. First provide an internal step-by-step reasoning within <think> </think> tags, then provide a single word or phrase answer in \\boxed{}.";

/** Python's `str.replace`: every occurrence, no replacement patterns. */
function replaceAll(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

/**
 * Returns the text-only request of the self-reward pass: the description put in first and the
 * question second (so a description holding "{Question}" gets the question there too, as in the
 * original), `<image>` removed from the question.
 */
export function verifyPrompt(description: string, question: string): string {
  return replaceAll(
    replaceAll(VISION_SR1_VERIFY_PROMPT, "{Description}", description),
    "{Question}",
    replaceAll(question, "<image>", ""),
  );
}
