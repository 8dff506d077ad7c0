// HSR-EE's steps (DESIGN.md): step 0 answers at once; then each sentence of <description>, then
// each sentence or line of <think>, is a step. A trial answer after step k is the response up to
// the end of step k, the open tag closed, and "\boxed{" opened for the policy to fill.

/** One step of a response: where it ends is where a trial answer may be asked for. */
export interface Step {
  /** 0 for the immediate answer, then 1, 2, … in reading order. */
  index: number;
  /** "answer" for step 0; otherwise the tag the step's sentence or line sits in. */
  part: "answer" | "description" | "think";
  /** UTF-16 offsets of the step's text in the response: [start, end). Step 0 is [0, 0). */
  start: number;
  end: number;
  /** The step's text: the sentence or line, without surrounding whitespace. */
  text: string;
}

// Words whose trailing period does not end a sentence ("e.g. a circle", "approx. 3").
const ABBREVIATIONS = new Set(["e.g", "i.e", "vs", "approx", "fig", "cf", "resp"]);
const TERMINATORS = ".!?。！？";
const CLOSERS = ")]\"'”’";

interface Region {
  part: "description" | "think";
  start: number;
  end: number;
}

// The content of each tag: up to its closing tag, or (left open) up to what follows it.
function regions(text: string): Region[] {
  const out: Region[] = [];
  const d = text.indexOf("<description>");
  if (d >= 0) {
    const start = d + "<description>".length;
    const stops = [
      text.indexOf("</description>", start),
      text.indexOf("<think>", start),
      text.indexOf("\\boxed{", start),
    ];
    out.push({ part: "description", start, end: Math.min(...stops.map((s) => (s < 0 ? text.length : s))) });
  }
  const t = text.indexOf("<think>", out[0]?.end ?? 0);
  if (t >= 0) {
    const start = t + "<think>".length;
    const stops = [text.indexOf("</think>", start), text.indexOf("\\boxed{", start)];
    out.push({ part: "think", start, end: Math.min(...stops.map((s) => (s < 0 ? text.length : s))) });
  }
  return out;
}

function endsSentence(text: string, at: number, stop: number): number | null {
  let j = at + 1;
  while (j < stop && TERMINATORS.includes(text[j])) j++;
  while (j < stop && CLOSERS.includes(text[j])) j++;
  // "3.5", "a.b": a terminator only ends a sentence before whitespace or the end of the tag.
  if (j < stop && !/\s/.test(text[j])) return null;
  if (text[at] === ".") {
    const word = /[^\s(]*$/.exec(text.slice(0, at))?.[0].toLowerCase() ?? "";
    if (ABBREVIATIONS.has(word)) return null;
  }
  return j;
}

function pushStep(steps: Step[], text: string, part: Step["part"], start: number, end: number): void {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  if (end > start) steps.push({ index: steps.length, part, start, end, text: text.slice(start, end) });
}

/** The steps of a response: step 0, then its description's sentences, then its reasoning's sentences and lines. */
export function splitSteps(response: string): Step[] {
  const steps: Step[] = [{ index: 0, part: "answer", start: 0, end: 0, text: "" }];
  for (const region of regions(response)) {
    let from = region.start;
    for (let i = region.start; i < region.end; i++) {
      const c = response[i];
      if (c === "\n" && region.part === "think") {
        pushStep(steps, response, region.part, from, i);
        from = i + 1;
      } else if (TERMINATORS.includes(c)) {
        const end = endsSentence(response, i, region.end);
        if (end !== null) {
          pushStep(steps, response, region.part, from, end);
          from = end;
          i = end - 1;
        }
      }
    }
    pushStep(steps, response, region.part, from, region.end);
  }
  return steps;
}

/**
 * The prompt continuation for a trial answer after step `k`: the response up to the end of step k,
 * the tag that step sits in closed, and `\boxed{` opened. After step 0 it is `\boxed{` alone.
 */
export function trialPrefix(response: string, k: number): string {
  const steps = splitSteps(response);
  if (!Number.isInteger(k) || k < 0 || k >= steps.length) {
    throw new RangeError(
      `trialPrefix: step ${k} does not exist (the response has steps 0 to ${steps.length - 1})`,
    );
  }
  const step = steps[k];
  if (step.part === "answer") return "\\boxed{";
  return `${response.slice(0, step.end)}</${step.part}>\n\\boxed{`;
}
