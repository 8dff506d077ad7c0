// report.md and its plots/: Markdown blocks in order, each figure rendered to plots/<name>.png.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "@sr2se/core";
import { writePng } from "./png.js";

/** Builds a Markdown report whose figures are PNGs under `plots/` next to it. */
export class ReportWriter {
  private readonly blocks: string[] = [];
  /** The PNG files written so far (absolute). */
  readonly figures: string[] = [];

  constructor(readonly out: string) {}

  /** Adds Markdown as it is (a paragraph, a table, a list). */
  add(markdown: string): this {
    this.blocks.push(markdown.trim());
    return this;
  }

  /** Adds a heading of `level` (1–4). */
  heading(level: number, title: string): this {
    return this.add(`${"#".repeat(level)} ${title}`);
  }

  /** Renders `svg` to plots/<name>.png and links it with its alt text and caption. */
  async figure(name: string, svg: string, alt: string, caption?: string): Promise<this> {
    const file = path.join(this.out, "plots", `${name}.png`);
    await writePng(svg, file);
    this.figures.push(file);
    return this.add(`![${alt}](plots/${name}.png)${caption ? `\n\n*${caption}*` : ""}`);
  }

  /** Writes OUT/report.md; returns its path. */
  async write(): Promise<string> {
    await mkdir(this.out, { recursive: true });
    const file = path.join(this.out, "report.md");
    await writeFileAtomic(file, `${this.blocks.join("\n\n")}\n`);
    return file;
  }
}
