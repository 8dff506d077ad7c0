// Line charts: per-round curves (with interval whiskers) and training curves (raw and smoothed).
import { legend, niceTicks, paletteFor, r, svgDocument, text, textWidth, tickLabel } from "./svg.js";

/** One point of a line; `low`/`high` draw a whisker. */
export interface LinePoint {
  x: number;
  y: number;
  low?: number;
  high?: number;
}

/** What `lineChartSvg` draws. */
export interface LineChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: LinePoint[]; color?: string; dashed?: boolean }[];
  /** Exponential-moving-average weight for noisy curves (0.9: heavy); the raw curve is drawn faint behind. */
  smooth?: number;
  /** Ticks only at whole numbers on x (rounds). */
  integerX?: boolean;
  width?: number;
  height?: number;
}

/** An exponential moving average of the y values (TensorBoard's smoothing, debiased at the start). */
function ema(points: readonly LinePoint[], weight: number): LinePoint[] {
  let avg = 0;
  return points.map((p, i) => {
    avg = weight * avg + (1 - weight) * p.y;
    return { x: p.x, y: avg / (1 - weight ** (i + 1)) };
  });
}

/** A line chart as an SVG string: one line a series, markers, whiskers, legend and labelled axes. */
export function lineChartSvg(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const names = spec.series.map((s) => s.name);
  const palette = paletteFor(names);
  const colorOf = (s: LineChartSpec["series"][number]) => s.color ?? (palette.get(s.name) as string);
  const m = { left: 76, right: 24, top: 86, bottom: 56 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const pts = spec.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  const xs = pts.map((p) => p.x);
  const ys = pts.flatMap((p) => [p.y, p.low ?? p.y, p.high ?? p.y]);
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const xTicks = spec.integerX
    ? Array.from({ length: Math.round(xMax - xMin) + 1 }, (_, i) => xMin + i)
    : niceTicks(xMin, xMax, 6);
  const yTicks = niceTicks(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1, 5);
  const x0 = spec.integerX ? xMin - 0.3 : (xTicks[0] as number);
  const x1 = spec.integerX ? xMax + 0.3 : (xTicks[xTicks.length - 1] as number);
  const y0 = yTicks[0] as number;
  const y1 = yTicks[yTicks.length - 1] as number;
  const X = (v: number) => m.left + ((v - x0) / (x1 - x0 || 1)) * plotW;
  const Y = (v: number) => m.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;
  const parts: string[] = [];
  parts.push(text(m.left, 26, spec.title, { size: 17, weight: "bold" }));
  if (spec.subtitle) parts.push(text(m.left, 46, spec.subtitle, { size: 12, fill: "#555" }));
  const leg = legend(
    m.left,
    70,
    spec.series.map((s) => ({ name: s.name, color: colorOf(s), dashed: s.dashed })),
    12,
  );
  parts.push(leg.svg);
  for (const t of yTicks) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${r(Y(t))}" y2="${r(Y(t))}" stroke="#e3e3e3"/>`,
    );
    parts.push(text(m.left - 8, Y(t) + 4, tickLabel(t), { size: 12, anchor: "end", fill: "#444" }));
  }
  for (const t of xTicks) {
    parts.push(
      `<line x1="${r(X(t))}" x2="${r(X(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="#888"/>`,
    );
    parts.push(text(X(t), m.top + plotH + 19, tickLabel(t), { size: 12, anchor: "middle", fill: "#444" }));
  }
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#888"/><line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#888"/>`,
  );
  parts.push(
    text(m.left + plotW / 2, height - 10, spec.xLabel, { size: 13, anchor: "middle", fill: "#333" }),
  );
  parts.push(
    text(18, m.top + plotH / 2, spec.yLabel, { size: 13, anchor: "middle", rotate: -90, fill: "#333" }),
  );
  const path = (ps: LinePoint[]) => ps.map((p, i) => `${i ? "L" : "M"}${r(X(p.x))} ${r(Y(p.y))}`).join(" ");
  for (const s of spec.series) {
    const c = colorOf(s);
    const ps = s.points.filter((p) => Number.isFinite(p.y));
    if (ps.length === 0) continue;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : "";
    if (spec.smooth !== undefined && ps.length > 2) {
      parts.push(`<path d="${path(ps)}" fill="none" stroke="${c}" stroke-opacity="0.25" stroke-width="1"/>`);
      parts.push(
        `<path d="${path(ema(ps, spec.smooth))}" fill="none" stroke="${c}" stroke-width="2.2"${dash}/>`,
      );
      continue;
    }
    parts.push(`<path d="${path(ps)}" fill="none" stroke="${c}" stroke-width="2.2"${dash}/>`);
    for (const p of ps) {
      if (p.low !== undefined && p.high !== undefined)
        parts.push(
          `<line x1="${r(X(p.x))}" x2="${r(X(p.x))}" y1="${r(Y(p.low))}" y2="${r(Y(p.high))}" stroke="${c}" stroke-width="1.4"/>`,
        );
      parts.push(
        `<circle cx="${r(X(p.x))}" cy="${r(Y(p.y))}" r="4" fill="${c}" stroke="#fff" stroke-width="1"/>`,
      );
    }
  }
  return svgDocument(
    Math.max(width, m.left + leg.width + m.right, m.left + textWidth(spec.title, 17)),
    height,
    parts.join(""),
  );
}

/** Places whole SVG documents on a grid of `columns`, as one SVG document (a figure of panels). */
export function gridSvg(panels: readonly string[], columns: number): string {
  const sizes = panels.map((p) => {
    const w = /width="([\d.]+)"/.exec(p);
    const h = /height="([\d.]+)"/.exec(p);
    return { w: Number(w?.[1] ?? 0), h: Number(h?.[1] ?? 0) };
  });
  const cellW = Math.max(...sizes.map((s) => s.w));
  const cellH = Math.max(...sizes.map((s) => s.h));
  const cols = Math.max(1, Math.min(columns, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const body = panels
    .map((p, i) => p.replace("<svg ", `<svg x="${(i % cols) * cellW}" y="${Math.floor(i / cols) * cellH}" `))
    .join("");
  return svgDocument(cols * cellW, rows * cellH, body);
}
