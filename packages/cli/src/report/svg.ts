// SVG building blocks of the report's charts: escaping, the font, the colours, tick steps and text width.

/** The font every chart uses; DejaVu Sans ships with most Linux systems and librsvg falls back cleanly. */
export const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

/**
 * Escapes text for an SVG text node or attribute. Characters XML 1.0 forbids even escaped (C0
 * controls other than tab, newline and return; lone surrogates; U+FFFE and U+FFFF), which a model's
 * response can hold, become U+FFFD: one such character would make the whole chart unreadable.
 */
export function escapeXml(text: string): string {
  return text.replace(XML_FORBIDDEN, "\uFFFD").replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const XML_FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters XML forbids are what it matches
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A whole SVG document of the given size on a white background. */
export function svgDocument(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}"><rect width="100%" height="100%" fill="#ffffff"/>${body}</svg>`;
}

/** A text element; `anchor` is SVG's text-anchor. */
export function text(
  x: number,
  y: number,
  content: string,
  o: {
    size?: number;
    anchor?: "start" | "middle" | "end";
    weight?: string;
    fill?: string;
    rotate?: number;
  } = {},
): string {
  const rot = o.rotate ? ` transform="rotate(${o.rotate} ${x} ${y})"` : "";
  return `<text x="${r(x)}" y="${r(y)}" font-size="${o.size ?? 13}" text-anchor="${o.anchor ?? "start"}" fill="${o.fill ?? "#222"}"${o.weight ? ` font-weight="${o.weight}"` : ""}${rot}>${escapeXml(content)}</text>`;
}

/** Rounds a coordinate to 0.1 px for compact SVG. */
export function r(x: number): string {
  return String(Math.round(x * 10) / 10);
}

// Okabe–Ito, a palette colour-blind readers can tell apart; the baseline is a neutral grey.
const FIXED: Record<string, string> = {
  sft: "#7A7A7A",
  "sft-continued": "#56B4E9",
  "ipr-srdpo": "#0072B2",
  "sr-dpo": "#0072B2",
  "grpo-binary": "#E69F00",
  "grpo-sr1": "#CC79A7",
  "hsr-ee": "#D55E00",
};
const CYCLE = ["#009E73", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9", "#0072B2", "#882255", "#44AA99"];

/** Colours of the given names in order, known names fixed and the rest from the cycle without repeats. */
export function paletteFor(names: readonly string[]): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const n of names) {
    const c = FIXED[n] ?? (/^ipr-srdpo-r\d+/.test(n) ? "#009E73" : undefined);
    if (c && !used.has(c)) {
      out.set(n, c);
      used.add(c);
    }
  }
  let k = 0;
  for (const n of names) {
    if (out.has(n)) continue;
    let c = CYCLE[k % CYCLE.length] as string;
    for (let tries = 0; used.has(c) && tries < CYCLE.length; tries++) c = CYCLE[++k % CYCLE.length] as string;
    out.set(n, c);
    used.add(c);
    k++;
  }
  return out;
}

/** Round tick values covering [min, max] with about `count` steps (1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) {
    const d = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return niceTicks(min - d, max + d, count);
  }
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step)
    out.push(Math.round(v / step) * step);
  if ((out[out.length - 1] as number) < max) out.push((out[out.length - 1] as number) + step);
  return out;
}

/** A tick label: no trailing zeros, a real minus sign. */
export function tickLabel(v: number): string {
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(4)).toString();
  return s.replace("-", "−");
}

/** Approximate rendered width of text in DejaVu Sans at `size` px (for wrapping and legends). */
export function textWidth(content: string, size: number): number {
  let w = 0;
  for (const c of content)
    w += /[A-Z@%MW]/.test(c) ? 0.72 : /[ilj.,:;'|!()[\]]/.test(c) ? 0.32 : c === " " ? 0.32 : 0.6;
  return w * size;
}

/** Splits words into lines no wider than `width` px at `size`. */
export function wrapWords<T extends { word: string }>(
  words: readonly T[],
  width: number,
  size: number,
): T[][] {
  const lines: T[][] = [];
  let line: T[] = [];
  let used = 0;
  for (const w of words) {
    const ww = textWidth(`${w.word} `, size);
    if (line.length > 0 && used + ww > width) {
      lines.push(line);
      line = [];
      used = 0;
    }
    line.push(w);
    used += ww;
  }
  if (line.length > 0) lines.push(line);
  return lines;
}

/** A legend row of coloured swatches and names starting at (x, y); returns the SVG and its width. */
export function legend(
  x: number,
  y: number,
  items: readonly { name: string; color: string; dashed?: boolean }[],
  size = 13,
): { svg: string; width: number } {
  let cx = x;
  const parts: string[] = [];
  for (const it of items) {
    parts.push(
      it.dashed
        ? `<line x1="${r(cx)}" y1="${r(y - size * 0.35)}" x2="${r(cx + 18)}" y2="${r(y - size * 0.35)}" stroke="${it.color}" stroke-width="3" stroke-dasharray="4 3"/>`
        : `<rect x="${r(cx)}" y="${r(y - size * 0.8)}" width="14" height="${r(size * 0.85)}" rx="2" fill="${it.color}"/>`,
    );
    parts.push(text(cx + 20, y, it.name, { size }));
    cx += 20 + textWidth(it.name, size) + 18;
  }
  return { svg: parts.join(""), width: cx - x };
}
