import { stat } from "node:fs/promises";

/** Returns true when `p` exists (a file, a folder or anything else a path can name). */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
