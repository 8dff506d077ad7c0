import path from "node:path";
import {
  readJsonl,
  readRecords,
  recordsLayout,
  resolveDatasetPath,
  type Sample,
  SampleSchema,
} from "@sr2se/core";

/** Seed files (`{image, question, answer}`) may carry no ids: such a record is named by its line. */
const lineId = (line: number) => `line-${line}`;

/** A sample with where it came from and the image path the policy should read. */
export interface LocatedSample {
  sample: Sample;
  /** The image for the policy: `sample.image` resolved against the dataset file's folder. */
  image: string;
  /** `file:line`, for error messages. */
  where: string;
}

/**
 * Streams the samples of a dataset file (JSON Lines, or a JSON array read whole), validated against
 * the Sample schema, each with its image resolved against the file's folder by `resolveDatasetPath`: a
 * path that leaves that folder (`..`, absolute, a symlink out) is refused before any of it is read or
 * sent to an endpoint: `samples.jsonl:7: field "image": "../x.png" leaves the dataset folder`.
 */
export async function* readSamples(file: string): AsyncGenerator<LocatedSample> {
  const root = path.dirname(path.resolve(file));
  if ((await recordsLayout(file)) === "array") {
    const { records, lines } = await readRecords<Sample>(file, { schema: SampleSchema, defaultId: lineId });
    for (let i = 0; i < records.length; i++) yield locate(records[i], file, lines[i], root);
    return;
  }
  const reader = readJsonl<Sample>(file, { schema: SampleSchema, defaultId: lineId });
  for await (const sample of reader) yield locate(sample, file, reader.lineOf(sample) ?? 0, root);
}

function locate(sample: Sample, file: string, line: number, root: string): LocatedSample {
  const image = resolveDatasetPath(root, sample.image, { file, line, field: "image" });
  return { sample, image, where: `${file}:${line}` };
}
