/** The original prompt x: the question in the sr2se / Vision-SR1 response format. */
export const DEFAULT_PROMPT_TEMPLATE = `{question}
{choices}

First describe the image inside <description></description> tags, with everything needed to answer the question without seeing the image. Then reason step by step inside <think></think> tags. Give the final answer inside \\boxed{}.`;

/** The refinement turn appended after a wrong answer. It states that the description was wrong, never what is right. */
export const DEFAULT_REFINEMENT_TEMPLATE = `Your description is inaccurate, please re-examine the image carefully. Describe again only what is actually in the image inside <description></description> tags, reason step by step inside <think></think> tags, and give the final answer to the original question inside \\boxed{}.`;
