import { EvalInputError } from "../predictions/errors.js";
import { readData, recordId } from "../predictions/read.js";
import type { ChairSample } from "./chair.js";

/**
 * CHAIR samples of a file: sr2se samples (`id`, `objects`) or the data package's scenes.jsonl (`image`,
 * `objects`), whose image path is the id when there is no `id`.
 */
export async function readChairSamples(file: string): Promise<ChairSample[]> {
  const { records, lines } = await readData(file);
  return records.map((r, i) => {
    const where = `${file}:${lines[i]}`;
    if (!Array.isArray(r.objects)) {
      throw new EvalInputError(
        "format",
        `${where}: field "objects" is missing (CHAIR needs each sample's object list)`,
        [],
        file,
      );
    }
    const id = recordId(r, r.id === undefined && r.image !== undefined ? "image" : "id", where);
    return { id, objects: r.objects as ChairSample["objects"] };
  });
}
