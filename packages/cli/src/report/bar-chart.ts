// Grouped bar charts with 95% interval whiskers: one group a benchmark, one bar a variant.
import {
  escapeXml,
  legend,
  niceTicks,
  paletteFor,
  r,
  svgDocument,
  text,
  textWidth,
  tickLabel,
} from "./svg.js";

/** An estimate and its interval (percent). */
export interface Estimate {
  value: number;
  low?: number;
  high?: number;
}

/** What `barChartSvg` draws. */
export interface BarChartSpec {
  title: string;
  subtitle?: string;
  yLabel: string;
  /** The x-axis groups (benchmarks), in order. */
  groups: string[];
  /** One series a variant; `values[i]` belongs to `groups[i]` (null: not measured). */
  series: { name: string; values: (Estimate | null)[] }[];
  width?: number;
  height?: number;
}

/**
 * A grouped bar chart as an SVG string: bars per variant within each group, whiskers for the intervals,
 * the value above each bar when there are few bars, a legend and labelled axes. Where every interval sits
 * high (above 40) the axis starts above zero so that differences of a point show, and the subtitle says so.
 */
export function barChartSvg(spec: BarChartSpec): string {
  const colors = paletteFor(spec.series.map((s) => s.name));
  const nBars = spec.series.length;
  const width = spec.width ?? Math.max(640, 110 + spec.groups.length * Math.max(90, nBars * 26 + 30));
  const height = spec.height ?? 440;
  const m = { left: 72, right: 20, top: 86, bottom: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = spec.series.flatMap((s) => s.values.filter((v): v is Estimate => v !== null));
  const lows = all.map((v) => Math.min(v.value, v.low ?? v.value));
  const highs = all.map((v) => Math.max(v.value, v.high ?? v.value));
  const lo = lows.length ? Math.min(...lows) : 0;
  const hi = highs.length ? Math.max(...highs) : 1;
  const floor = lo > 40 ? lo - Math.max(5, (hi - lo) * 0.6) : Math.min(0, lo);
  const ticks = niceTicks(floor, hi + (hi - floor) * 0.08, 6);
  const y0 = ticks[0] as number;
  const y1 = ticks[ticks.length - 1] as number;
  const y = (v: number) => m.top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const parts: string[] = [];
  parts.push(text(m.left, 26, spec.title, { size: 18, weight: "bold" }));
  const sub = [spec.subtitle, y0 > 0 ? `y axis starts at ${tickLabel(y0)}` : undefined]
    .filter(Boolean)
    .join(" · ");
  if (sub) parts.push(text(m.left, 46, sub, { size: 12, fill: "#555" }));
  const leg = legend(
    m.left,
    70,
    spec.series.map((s) => ({ name: s.name, color: colors.get(s.name) as string })),
    12,
  );
  parts.push(leg.svg);
  for (const t of ticks) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${r(y(t))}" y2="${r(y(t))}" stroke="${t === 0 ? "#888" : "#e3e3e3"}" stroke-width="1"/>`,
    );
    parts.push(text(m.left - 8, y(t) + 4, tickLabel(t), { size: 12, anchor: "end", fill: "#444" }));
  }
  parts.push(
    text(20, m.top + plotH / 2, spec.yLabel, { size: 13, anchor: "middle", rotate: -90, fill: "#333" }),
  );
  const groupW = plotW / Math.max(1, spec.groups.length);
  const barW = Math.min(34, (groupW - 24) / Math.max(1, nBars));
  const labelValues = nBars <= 4;
  spec.groups.forEach((g, gi) => {
    const gx = m.left + gi * groupW + (groupW - barW * nBars) / 2;
    spec.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!v) return;
      const x = gx + si * barW;
      const top = y(v.value);
      const color = colors.get(s.name) as string;
      parts.push(
        `<rect x="${r(x + 1)}" y="${r(Math.min(top, y(y0)))}" width="${r(barW - 2)}" height="${r(Math.abs(y(y0) - top))}" fill="${color}" fill-opacity="0.88"><title>${escapeXml(`${s.name} ${g}: ${v.value.toFixed(1)}`)}</title></rect>`,
      );
      if (v.low !== undefined && v.high !== undefined) {
        const cx = x + barW / 2;
        parts.push(
          `<g stroke="#1f1f1f" stroke-width="1.4"><line x1="${r(cx)}" x2="${r(cx)}" y1="${r(y(v.low))}" y2="${r(y(v.high))}"/><line x1="${r(cx - 4)}" x2="${r(cx + 4)}" y1="${r(y(v.low))}" y2="${r(y(v.low))}"/><line x1="${r(cx - 4)}" x2="${r(cx + 4)}" y1="${r(y(v.high))}" y2="${r(y(v.high))}"/></g>`,
        );
      }
      if (labelValues)
        parts.push(
          text(x + barW / 2, y(Math.max(v.value, v.high ?? v.value)) - 5, v.value.toFixed(1), {
            size: 10.5,
            anchor: "middle",
            fill: "#333",
          }),
        );
    });
    const label = g.length * 7 > groupW ? g.replace(" ", "\n") : g;
    label.split("\n").forEach((line, li) => {
      parts.push(
        text(m.left + gi * groupW + groupW / 2, m.top + plotH + 20 + li * 15, line, {
          size: 12.5,
          anchor: "middle",
        }),
      );
    });
  });
  parts.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#888"/><line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#888"/>`,
  );
  if (all.some((v) => v.low !== undefined))
    parts.push(
      text(width - m.right, height - 10, "whiskers: 95% bootstrap interval", {
        size: 11,
        anchor: "end",
        fill: "#666",
      }),
    );
  // a legend wider than the plot would be clipped: widen the canvas to hold it
  const need = m.left + leg.width + m.right;
  return svgDocument(
    Math.max(width, need, m.left + textWidth(spec.title, 18) + m.right),
    height,
    parts.join(""),
  );
}
