import type { Message } from "@sr2se/core";

/** Renders chat messages as one prompt string (what a pair's `prompt` holds). */
export type PromptFormatter = (messages: readonly Message[]) => string;

/**
 * Returns the ChatML rendering of `messages` (Qwen2.5-VL's template, the base of Vision-SR1), with
 * the image marked in the first user turn and the assistant turn opened.
 */
export const chatMlPrompt: PromptFormatter = (messages) => {
  let out = "";
  let imageMarked = false;
  for (const m of messages) {
    let content = m.content;
    if (m.role === "user" && !imageMarked) {
      content = `<|vision_start|><|image_pad|><|vision_end|>${content}`;
      imageMarked = true;
    }
    out += `<|im_start|>${m.role}\n${content}<|im_end|>\n`;
  }
  return `${out}<|im_start|>assistant\n`;
};
