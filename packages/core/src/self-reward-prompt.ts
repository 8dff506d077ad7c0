// The text-only request of Vision-SR1's self-reward: the same policy answers the question from a
// description alone, without the image. Written once here, where IPR's winner check, GRPO's
// description pass and SFT's text-only examples all reach it.

/** Vision-SR1's `ABS_Verify_Prompt` (verl/trainer/ray_trainer.py:81), verbatim. */
export const VISION_SR1_VERIFY_PROMPT =
  "Text description: {Description}\nQuestion: {Question}\nYou are provided a text description of a problem and a question. Determine the answer to the question based on the text description. First provide an internal step-by-step reasoning within <think> </think> tags, then provide a single word or phrase answer in \\boxed{}.";

/** Python's `str.replace`: every occurrence, no replacement patterns. */
function replaceAll(text: string, from: string, to: string): string {
  return text.split(from).join(to);
}

/**
 * Returns the text-only self-reward request for a description and a question, filled as Vision-SR1's
 * trainer fills it (ray_trainer.py:671-675): the description first, then the question (so a
 * description holding "{Question}" gets the question there too), `<image>` removed from the question.
 */
export function verifyPrompt(description: string, question: string): string {
  return replaceAll(
    replaceAll(VISION_SR1_VERIFY_PROMPT, "{Description}", description),
    "{Question}",
    replaceAll(question, "<image>", ""),
  );
}
