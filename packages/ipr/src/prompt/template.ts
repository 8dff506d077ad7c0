/** Values a template may substitute. The gold answer is deliberately not among them. */
export interface TemplateValues {
  question: string;
  choices: string;
  description?: string;
}

/** A text with `{placeholder}` slots, checked once against the placeholders its use allows. */
export class PromptTemplate {
  private readonly parts: Array<string | keyof TemplateValues>;

  /** Parses `text`; throws when it names a placeholder outside `allowed` (so `{answer}` can never be filled in). */
  constructor(
    readonly name: string,
    readonly text: string,
    allowed: ReadonlyArray<keyof TemplateValues>,
  ) {
    this.parts = [];
    const slot = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
    let last = 0;
    for (let m = slot.exec(text); m !== null; m = slot.exec(text)) {
      const key = m[1] as keyof TemplateValues;
      if (!allowed.includes(key)) {
        const list = allowed.map((a) => `{${a}}`).join(", ");
        throw new Error(
          `${name} template: placeholder {${m[1]}} is not allowed (allowed: ${list || "none"})`,
        );
      }
      this.parts.push(text.slice(last, m.index), key);
      last = m.index + m[0].length;
    }
    this.parts.push(text.slice(last));
  }

  /** Returns the template with its placeholders filled in. */
  render(values: TemplateValues): string {
    let out = "";
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i];
      out += i % 2 === 0 ? part : (values[part as keyof TemplateValues] ?? "");
    }
    return out.replace(/\n{3,}/g, "\n\n").trim();
  }
}

/** Options listed one a line as `A. text`; empty when there are none. */
export function renderChoices(choices: readonly string[] | null | undefined): string {
  if (!choices || choices.length === 0) return "";
  return choices.map((c, i) => `${String.fromCharCode(65 + i)}. ${c}`).join("\n");
}
