// Checkpoint files in the safetensors format, as host arrays (no device involved). Parsing and
// writing are @sr2se/tensor's strict reader and writer (`io.decodeSafetensors`/`encodeSafetensors`):
// a file from elsewhere is untrusted, so every inconsistency is an error naming the file and tensor.
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "@sr2se/core";
import { io } from "@sr2se/tensor";

/** A tensor read from or written to a safetensors file: float data as Float32Array, integers as Int32Array. */
export interface HostTensor {
  dtype: "F32" | "I32";
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Returns the tensors of a safetensors buffer (F16/BF16/F64 as F32; I64, U8 and BOOL as I32); `where` names the file in errors. */
export function parseSafetensors(buf: Uint8Array, where: string): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of io.decodeSafetensors(buf, where).tensors) {
    const float = t.dtype === "float32" || t.dtype === "float64";
    out.set(name, {
      dtype: float ? "F32" : "I32",
      shape: [...t.shape],
      data:
        t.data instanceof Float32Array || t.data instanceof Int32Array
          ? t.data
          : float
            ? Float32Array.from(t.data)
            : Int32Array.from(t.data),
    });
  }
  return out;
}

/** Returns the tensors of a safetensors file; errors name the file. */
export async function readSafetensors(file: string): Promise<Map<string, HostTensor>> {
  let buf: Uint8Array;
  try {
    buf = await readFile(file);
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  return parseSafetensors(buf, file);
}

/** Returns the safetensors bytes of named tensors (names sorted, header padded to 8 bytes). */
export function serializeSafetensors(
  tensors: Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const host = new Map<string, io.HostArray>();
  for (const [name, t] of tensors) {
    host.set(name, { dtype: t.dtype === "F32" ? "float32" : "int32", shape: t.shape, data: t.data });
  }
  return io.encodeSafetensors(host, metadata);
}

/** Writes named tensors to a safetensors file atomically. */
export async function writeSafetensors(
  file: string,
  tensors: Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
