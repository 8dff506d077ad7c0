// The gallery of preference pairs: each pair's image beside its hallucinated (rejected) and corrected
// (chosen) description, the objects the image does not hold marked by eval's CHAIR mention extractor.
import { existsSync } from "node:fs";
import { type PreferencePair, parseResponse, type SceneObject } from "@sr2se/core";
import { SHAPES_WORLD_VOCABULARY } from "@sr2se/data";
import { chairOfResponse, compileVocabulary } from "@sr2se/eval";
import { imageDataUri } from "./png.js";
import { escapeXml, r, svgDocument, text, wrapWords } from "./svg.js";

/** One pair of the gallery with what the figure shows of it. */
export interface GalleryEntry {
  pairId: string;
  round: number | null;
  /** The image file (absolute or relative to the working folder). */
  image: string;
  question: string;
  answer: string;
  rejected: string;
  chosen: string;
  /** The hallucinated mentions of each side, as the CHAIR extractor writes them ("red star"). */
  rejectedHallucinated: string[];
  chosenHallucinated: string[];
  /** Whether IPR judged each side's answer right (the pair's meta), when it says. */
  chosenCorrect?: boolean;
  rejectedCorrect?: boolean;
}

const vocabulary = compileVocabulary(SHAPES_WORLD_VOCABULARY);

/** The hallucinated mentions (as written, lower case) of a response's description against the scene's objects. */
export function hallucinatedMentions(response: string, objects: readonly SceneObject[]): string[] {
  const d = parseResponse(response).description ?? response;
  return chairOfResponse(d, objects, { compiled: vocabulary }).words;
}

/**
 * Gallery entries for up to `count` pairs, those whose rejected side hallucinates an object first (then by
 * id, so a rerun picks the same ones). `sampleOf` gives a pair's sample (question, answer, objects) and
 * `imageOf` the path of its image; pairs whose sample or image is missing are skipped.
 */
export function galleryEntries(
  pairs: readonly PreferencePair[],
  sampleOf: (id: string) => { question: string; answer: string; objects?: SceneObject[] } | undefined,
  imageOf: (image: string) => string,
  count = 6,
): GalleryEntry[] {
  const entries: GalleryEntry[] = [];
  for (const p of pairs) {
    const s = sampleOf(p.sample_id);
    if (!s || !p.image) continue;
    const image = imageOf(p.image);
    if (!existsSync(image)) continue;
    const objects = s.objects ?? [];
    entries.push({
      pairId: p.id,
      round: typeof p.meta?.round === "number" ? p.meta.round : null,
      image,
      question: s.question,
      answer: s.answer,
      rejected: p.rejected,
      chosen: p.chosen,
      rejectedHallucinated: objects.length ? hallucinatedMentions(p.rejected, objects) : [],
      chosenHallucinated: objects.length ? hallucinatedMentions(p.chosen, objects) : [],
      chosenCorrect: typeof p.meta?.chosen_correct === "boolean" ? p.meta.chosen_correct : undefined,
      rejectedCorrect: typeof p.meta?.rejected_correct === "boolean" ? p.meta.rejected_correct : undefined,
    });
  }
  entries.sort(
    (a, b) =>
      Number(b.rejectedHallucinated.length > 0) - Number(a.rejectedHallucinated.length > 0) ||
      (a.pairId < b.pairId ? -1 : a.pairId > b.pairId ? 1 : 0),
  );
  return entries.slice(0, count);
}

interface Word {
  word: string;
  marked: boolean;
  bold?: boolean;
}

const clean = (w: string) => w.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");

/** The words of a text, those that spell one of the phrases (word for word, any case) marked. */
function markedWords(content: string, phrases: readonly string[]): Word[] {
  const words: Word[] = content
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => ({ word, marked: false }));
  for (const phrase of phrases) {
    const parts = phrase.split(" ");
    for (let i = 0; i + parts.length <= words.length; i++)
      if (parts.every((p, k) => clean((words[i + k] as Word).word) === p))
        for (let k = 0; k < parts.length; k++) (words[i + k] as Word).marked = true;
  }
  return words;
}

/** What a gallery cell shows of a response: the description and the final answer. */
function shown(response: string): { description: string; answer: string } {
  const p = parseResponse(response);
  return { description: (p.description ?? response).trim(), answer: p.answer ?? "(none)" };
}

const FONT_SIZE = 13;
const LINE = 18;

/** One text cell: a heading, the wrapped description with marked words, and the answer line. */
function cell(
  x: number,
  y: number,
  width: number,
  heading: string,
  headColor: string,
  response: string,
  phrases: readonly string[],
  gold: string,
  judged: boolean | undefined,
): { svg: string; height: number } {
  const { description, answer } = shown(response);
  const lines = wrapWords(markedWords(description, phrases), width, FONT_SIZE);
  const parts = [text(x, y, heading, { size: 12, weight: "bold", fill: headColor })];
  lines.forEach((line, i) => {
    const spans = line
      .map((w) =>
        w.marked
          ? `<tspan fill="#C0152F" font-weight="bold" text-decoration="underline">${escapeXml(w.word)}</tspan>`
          : escapeXml(w.word),
      )
      .join(" ");
    parts.push(
      `<text x="${r(x)}" y="${r(y + 20 + i * LINE)}" font-size="${FONT_SIZE}" fill="#222">${spans}</text>`,
    );
  });
  const ay = y + 20 + lines.length * LINE + 6;
  // IPR's own verdict where the pair records it; else the answer as written against the gold one
  const right = judged ?? answer.trim().toLowerCase() === gold.trim().toLowerCase();
  parts.push(
    `<text x="${r(x)}" y="${r(ay)}" font-size="${FONT_SIZE}" fill="#222">answer: <tspan font-weight="bold" fill="${right ? "#1B7F3B" : "#C0152F"}">${escapeXml(answer)}</tspan> ${right ? "✓" : "✗"}</text>`,
  );
  return { svg: parts.join(""), height: ay - y + 8 };
}

/** The gallery as an SVG document: a row a pair, the image, the rejected and the chosen response. */
export async function gallerySvg(
  entries: readonly GalleryEntry[],
  title = "Preference pairs from IPR",
): Promise<string> {
  const imgSide = 144;
  const textW = 400;
  const colImg = 24;
  const colRej = colImg + imgSide + 28;
  const colCho = colRej + textW + 28;
  const width = colCho + textW + 24;
  const parts: string[] = [];
  parts.push(text(24, 30, title, { size: 18, weight: "bold" }));
  parts.push(
    `<text x="24" y="52" font-size="12" fill="#555">Left: the image. Middle: the policy's original response (rejected). Right: its corrected response (chosen). <tspan fill="#C0152F" font-weight="bold" text-decoration="underline">Marked</tspan>: objects not in the image (CHAIR extractor).</text>`,
  );
  let y = 78;
  for (const e of entries) {
    const uri = await imageDataUri(e.image, imgSide);
    const q = `${e.question}  (gold: ${e.answer}${e.round !== null ? `, round ${e.round}` : ""})`;
    const qLines = wrapWords(
      q.split(/\s+/).map((word) => ({ word })),
      width - 48,
      12.5,
    );
    parts.push(`<line x1="24" x2="${width - 24}" y1="${y}" y2="${y}" stroke="#d0d0d0"/>`);
    for (const [i, l] of qLines.entries())
      parts.push(
        text(24, y + 20 + i * 17, l.map((w) => w.word).join(" "), {
          size: 12.5,
          weight: i === 0 ? "bold" : undefined,
          fill: "#333",
        }),
      );
    const top = y + 20 + qLines.length * 17 + 4;
    parts.push(
      `<image x="${colImg}" y="${top}" width="${imgSide}" height="${imgSide}" href="${uri}"/><rect x="${colImg}" y="${top}" width="${imgSide}" height="${imgSide}" fill="none" stroke="#999"/>`,
    );
    const rej = cell(
      colRej,
      top + 10,
      textW,
      "REJECTED · hallucinated",
      "#C0152F",
      e.rejected,
      e.rejectedHallucinated,
      e.answer,
      e.rejectedCorrect,
    );
    const cho = cell(
      colCho,
      top + 10,
      textW,
      "CHOSEN · corrected",
      "#1B7F3B",
      e.chosen,
      e.chosenHallucinated,
      e.answer,
      e.chosenCorrect,
    );
    parts.push(rej.svg, cho.svg);
    y = top + Math.max(imgSide + 10, rej.height + 14, cho.height + 14);
  }
  if (entries.length === 0)
    parts.push(text(24, y + 24, "(no pairs with images to show)", { size: 13, fill: "#666" }));
  return svgDocument(width, y + (entries.length ? 16 : 48), parts.join(""));
}
