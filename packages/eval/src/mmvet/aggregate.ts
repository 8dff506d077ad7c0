import { pyFloatRepr } from "../mathvista/python-number.js";
import { npMean, npRound, npStd } from "./numpy.js";
import type { MmVetSample } from "./types.js";

/** A column of MM-Vet's score tables: the mean over runs (rounded as numpy rounds) and each run's score. */
export interface MmVetColumn {
  /** round(mean over runs, decimalPlaces) with numpy's rounding: the number MM-Vet reports. */
  score: number;
  /** Unrounded score of each run, in percent. */
  perRun: number[];
  /** Samples counted in the column. */
  count: number;
}

/** One of MM-Vet's two result rows (capabilities, or capability integrations), with total, std and runs. */
export interface MmVetTable {
  columns: Record<string, MmVetColumn>;
  total: MmVetColumn;
  /** Population std of the run totals, rounded as numpy rounds. */
  std: number;
  /** The run totals rounded, as the official `runs` cell prints them (numpy 1.x style). */
  runs: string;
}

/** Capabilities by count, most common first (ties in order of first appearance), as Counter.most_common orders them. */
export function capabilityColumns(samples: readonly MmVetSample[]): { name: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const s of samples) for (const c of new Set(s.capability)) counts.set(c, (counts.get(c) ?? 0) + 1);
  return [...counts.entries()].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
}

/** Key of a capability set, independent of order. */
function setKey(caps: Iterable<string>): string {
  return JSON.stringify([...new Set(caps)].sort());
}

/**
 * Capability sets by count, most common first; each named by joining its capabilities with "_" in
 * the order the first sample with that set lists them (the official name follows Python's set order).
 */
export function capabilitySetColumns(
  samples: readonly MmVetSample[],
): { name: string; key: string; count: number }[] {
  const sets = new Map<string, { name: string; key: string; count: number }>();
  for (const s of samples) {
    const key = setKey(s.capability);
    const entry = sets.get(key);
    if (entry) entry.count++;
    else sets.set(key, { name: [...new Set(s.capability)].join("_"), key, count: 1 });
  }
  return [...sets.values()].sort((a, b) => b.count - a.count);
}

function column(perRunSums: number[], count: number, decimalPlaces: number): MmVetColumn {
  const perRun = perRunSums.map((v) => (v / count) * 100);
  return { score: npRound(npMean(perRun), decimalPlaces), perRun, count };
}

/**
 * MM-Vet's export_result: per capability and per capability set, each run's score is the sum of
 * its samples' scores over the column's sample count, times 100; the reported value is the mean
 * over runs, and std is the population std of the run totals.
 */
export function aggregateMmVet(
  samples: readonly MmVetSample[],
  scores: ReadonlyMap<string, readonly number[]>,
  runs: number,
  decimalPlaces = 1,
): { capabilities: MmVetTable; capabilitySets: MmVetTable } {
  const caps = capabilityColumns(samples);
  const sets = capabilitySetColumns(samples);
  const capSums = new Map(caps.map((c) => [c.name, new Array<number>(runs).fill(0)]));
  const setSums = new Map(sets.map((s) => [s.key, new Array<number>(runs).fill(0)]));
  const total = new Array<number>(runs).fill(0);
  const total2 = new Array<number>(runs).fill(0);
  for (const sample of samples) {
    const got = scores.get(sample.id);
    if (!got) throw new Error(`mmvet: sample ${sample.id} has no grade`);
    const setSum = setSums.get(setKey(sample.capability)) as number[];
    for (let i = 0; i < runs; i++) {
      const score = got[i];
      if (score === undefined) throw new Error(`mmvet: sample ${sample.id} has no grade for run ${i}`);
      for (const c of new Set(sample.capability)) {
        const sums = capSums.get(c) as number[];
        sums[i] = (sums[i] as number) + score;
      }
      total[i] = (total[i] as number) + score;
      setSum[i] = (setSum[i] as number) + score;
      total2[i] = (total2[i] as number) + score;
    }
  }
  const n = samples.length;
  const totalColumn = column(total, n, decimalPlaces);
  const std = npRound(npStd(totalColumn.perRun), decimalPlaces);
  const runsCell = `[${totalColumn.perRun.map((v) => pyFloatRepr(npRound(v, decimalPlaces))).join(", ")}]`;
  const capabilities: MmVetTable = {
    columns: Object.fromEntries(
      caps.map((c) => [c.name, column(capSums.get(c.name) as number[], c.count, decimalPlaces)]),
    ),
    total: totalColumn,
    std,
    runs: runsCell,
  };
  const capabilitySets: MmVetTable = {
    columns: Object.fromEntries(
      sets.map((s) => [s.name, column(setSums.get(s.key) as number[], s.count, decimalPlaces)]),
    ),
    total: column(total2, n, decimalPlaces),
    std,
    runs: runsCell,
  };
  return { capabilities, capabilitySets };
}
