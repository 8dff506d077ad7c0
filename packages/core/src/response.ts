/** A response in the sr2se / Vision-SR1 format, taken apart. */
export interface ParsedResponse {
  description?: string;
  think?: string;
  /** Content of the last \boxed{…}, or null when there is none. */
  answer: string | null;
  /** 0: only \boxed{}; 1: with <description>; 2: with <think> too. */
  level: 0 | 1 | 2;
  /** Tags closed and in order (description, think, boxed answer), with a boxed answer. */
  formatOk: boolean;
}

/** Content of the last `\boxed{…}` (braces matched by depth), or null. */
export function extractBoxed(text: string): string | null {
  let from = text.length;
  while (from >= 0) {
    const at = text.lastIndexOf("\\boxed{", from);
    if (at < 0) return null;
    let depth = 0;
    for (let i = at + 6; i < text.length; i++) {
      const c = text[i];
      if (c === "{") depth++;
      else if (c === "}") {
        depth--;
        if (depth === 0) return text.slice(at + 7, i).trim();
      }
    }
    from = at - 1;
  }
  return null;
}

function tag(text: string, name: string): { content?: string; ok: boolean; start: number; end: number } {
  const open = `<${name}>`;
  const close = `</${name}>`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 && b < 0) return { ok: true, start: -1, end: -1 };
  if (a < 0 || b < a) return { ok: false, start: a, end: b };
  const twice = text.indexOf(open, a + open.length) >= 0 || text.indexOf(close, b + close.length) >= 0;
  return { content: text.slice(a + open.length, b).trim(), ok: !twice, start: a, end: b + close.length };
}

/** Splits a response into description, reasoning and answer, and checks its format. */
export function parseResponse(text: string): ParsedResponse {
  const d = tag(text, "description");
  const t = tag(text, "think");
  const answer = extractBoxed(text);
  const boxedAt = text.lastIndexOf("\\boxed{");
  let ordered = true;
  if (d.content !== undefined && t.content !== undefined && d.end > t.start) ordered = false;
  if (t.content !== undefined && boxedAt >= 0 && t.end > boxedAt) ordered = false;
  if (d.content !== undefined && boxedAt >= 0 && d.end > boxedAt) ordered = false;
  const level = t.content !== undefined ? 2 : d.content !== undefined ? 1 : 0;
  return {
    description: d.content,
    think: t.content,
    answer,
    level,
    formatOk: answer !== null && d.ok && t.ok && ordered,
  };
}

/** Renders the parts of a response in the sr2se format. */
export function formatResponse(parts: { description?: string; think?: string; answer: string }): string {
  const out: string[] = [];
  if (parts.description !== undefined) out.push(`<description>${parts.description}</description>`);
  if (parts.think !== undefined) out.push(`<think>${parts.think}</think>`);
  out.push(`\\boxed{${parts.answer}}`);
  return out.join("\n");
}
