#!/usr/bin/env node
// Scores a shapes-world model's POPE answers against its own description (not only the label), and
// breaks the disagreements down by what the description holds about the asked "<color> <shape>":
// the object itself, its color on another shape, its shape in another color, both apart, or
// neither. Also: how often the reasoning's "Find"/"Any" copy the asked object, and how often its
// "Matches for <shapes>:" list is exactly the description's objects of that shape.
// usage: node pope-vs-description.mjs BENCH.jsonl PRED.jsonl   (a POPE split and `sr2se predict`'s output)
import { readFileSync } from "node:fs";

const [benchFile, predFile] = process.argv.slice(2);
if (!benchFile || !predFile) {
  console.error("usage: node pope-vs-description.mjs BENCH.jsonl PRED.jsonl");
  process.exit(2);
}
const jsonl = (f) =>
  readFileSync(f, "utf8")
    .split("\n")
    .map((l, i) => [l, i + 1])
    .filter(([l]) => l.trim())
    .map(([l, n]) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${f}:${n}: not JSON (${e.message})`);
      }
    });
const bench = new Map(jsonl(benchFile).map((b) => [String(b.question_id), b]));
const cases = {};
const c = { n: 0, descRight: 0, ansDesc: 0, ansLabel: 0, find: 0, any: 0, list: 0, lists: 0 };
for (const [i, p] of jsonl(predFile).entries()) {
  const b = bench.get(String(p.id));
  if (!b) throw new Error(`${predFile}:${i + 1}: id ${p.id} is not in ${benchFile}`);
  const q = /Is there an? (\w+) (\w+)/.exec(b.text);
  if (!q) throw new Error(`${benchFile}: question ${b.question_id} is not "Is there a <color> <shape>…"`);
  const [, color, shape] = q;
  const r = String(p.response ?? "");
  const desc = /<description>(.*?)<\/description>/s.exec(r)?.[1] ?? "";
  const objects = [...desc.matchAll(/A (?:\w+ )?(\w+) (\w+) ([\w-]+)\./g)].map((o) => ({
    color: o[1],
    shape: o[2],
    at: o[3],
  }));
  const has = objects.some((o) => o.color === color && o.shape === shape);
  const shapeAlone = objects.some((o) => o.shape === shape);
  const colorAlone = objects.some((o) => o.color === color);
  const kind = has
    ? "the asked object"
    : shapeAlone && colorAlone
      ? "its color and its shape, never together"
      : colorAlone
        ? "its color on another shape"
        : shapeAlone
          ? "its shape in another color"
          : "neither";
  const answer = /\\boxed\{(\w+)\}/.exec(r)?.[1];
  const byDesc = has ? "yes" : "no";
  c.n++;
  if (byDesc === b.label) c.descRight++;
  if (answer === byDesc) c.ansDesc++;
  if (answer === b.label) c.ansLabel++;
  const m = /Find (\w+) (\w+)\. Matches for \w+: (.*?)\. Any (\w+): (?:yes|no)/s.exec(r);
  if (m) {
    if (m[1] === color && m[2] === shape) c.find++;
    if (m[4] === color) c.any++;
    c.lists++;
    const want = objects.filter((o) => o.shape === m[2]).map((o) => `${o.color} ${o.shape} ${o.at}`);
    if ((m[3] === "none" ? [] : m[3].split(", ")).join("|") === want.join("|")) c.list++;
  }
  cases[kind] ??= { n: 0, wrong: 0 };
  cases[kind].n++;
  if (answer !== byDesc) cases[kind].wrong++;
}
const pc = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : "—");
console.log(`${predFile}: ${c.n} questions`);
console.log(`  description agrees with the label   ${pc(c.descRight, c.n)}`);
console.log(`  answer agrees with the description  ${pc(c.ansDesc, c.n)}`);
console.log(`  answer agrees with the label        ${pc(c.ansLabel, c.n)}`);
console.log(`  "Find" copies the asked object      ${pc(c.find, c.n)}`);
console.log(`  "Any" copies the asked color        ${pc(c.any, c.n)}`);
console.log(`  "Matches" list exact                ${pc(c.list, c.lists)}`);
console.log("  answer disagrees with the description, by what the description holds:");
for (const [k, v] of Object.entries(cases).sort())
  console.log(
    `    ${k.padEnd(40)} ${String(v.wrong).padStart(4)} / ${String(v.n).padEnd(4)} ${pc(v.wrong, v.n)}`,
  );
