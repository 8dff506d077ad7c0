// The safetensors header, parsed strictly: every size is checked against the file before anything is
// allocated, so an untrusted file gives a clear error, never a crash, a hang or a huge allocation.

/** The element types of the safetensors format that we read. */
export type SafeDType = "F32" | "F64" | "F16" | "BF16" | "I32" | "I64" | "U8" | "BOOL";

/** Bytes per element of each safetensors dtype. */
export const SAFE_DTYPE_BYTES: Record<SafeDType, number> = {
  F32: 4,
  F64: 8,
  F16: 2,
  BF16: 2,
  I32: 4,
  I64: 8,
  U8: 1,
  BOOL: 1,
};

/** One tensor's entry: dtype, shape and its byte range within the data section. */
export interface SafeTensorInfo {
  dtype: SafeDType;
  shape: number[];
  /** Byte offsets relative to the start of the data section. */
  begin: number;
  end: number;
}

/** A parsed header. */
export interface SafeHeader {
  tensors: Map<string, SafeTensorInfo>;
  metadata: Record<string, string>;
  /** File offset where the data section starts (8 + header length). */
  dataStart: number;
}

/** Largest header we accept (the format's reference implementation caps it at 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;
const MAX_RANK = 16;

/** Returns the header length from the first 8 bytes, checked against the file size. */
export function headerLength(first8: Uint8Array, fileSize: number, where: string): number {
  if (fileSize < 8 || first8.length < 8)
    throw new Error(
      `${where}: file is ${fileSize} bytes, too short for a safetensors header (truncated file?)`,
    );
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES)
    throw new Error(`${where}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n > fileSize - 8)
    throw new Error(
      `${where}: header length ${n} runs past the end of the file (${fileSize} bytes): truncated file or corrupt header`,
    );
  if (n < 2) throw new Error(`${where}: header length ${n} is too small for a JSON object`);
  return n;
}

/** Parses and validates header JSON bytes for a file of fileSize bytes. */
export function parseHeader(json: Uint8Array, fileSize: number, where: string): SafeHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch {
    throw new Error(`${where}: header is not valid UTF-8`);
  }
  let raw: unknown;
  try {
    // JSON.parse skips the format's trailing space padding itself (a regular expression such as
    // / +$/ would take quadratic time on a header of many spaces followed by anything else)
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: header is not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new Error(`${where}: header is not a JSON object`);
  const dataStart = 8 + json.length;
  const dataSize = fileSize - dataStart;
  const tensors = new Map<string, SafeTensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const at = `${where}: tensor "${name}"`;
    if (name === "__metadata__") {
      if (value === null || typeof value !== "object" || Array.isArray(value))
        throw new Error(`${where}: __metadata__ is not an object`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") throw new Error(`${where}: __metadata__ field "${k}" is not a string`);
      }
      metadata = value as Record<string, string>;
      continue;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw new Error(`${at}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    // own keys only: "constructor" or "__proto__" are `in` every object
    if (typeof dtype !== "string" || !Object.hasOwn(SAFE_DTYPE_BYTES, dtype)) {
      throw new Error(
        `${at}: field "dtype" is ${JSON.stringify(dtype)}, expected one of ${Object.keys(SAFE_DTYPE_BYTES).join(", ")}`,
      );
    }
    if (!Array.isArray(shape) || shape.length > MAX_RANK)
      throw new Error(`${at}: field "shape" must be an array of at most ${MAX_RANK} dims`);
    let numel = 1;
    for (const d of shape) {
      if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0)
        throw new Error(`${at}: field "shape" has an invalid dim ${JSON.stringify(d)}`);
      numel *= d;
      if (numel > dataSize) {
        // checked as we go so absurd dims are refused before any product can overflow
        if (shape.every((x) => x !== 0))
          throw new Error(
            `${at}: shape [${shape.join(",")}] needs more bytes than the file holds (${dataSize})`,
          );
      }
    }
    if (shape.includes(0)) numel = 0;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)
    ) {
      throw new Error(`${at}: field "data_offsets" must be two non-negative integers`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataSize) {
      throw new Error(
        `${at}: data_offsets [${begin}, ${end}] are outside the data section (${dataSize} bytes): truncated file or corrupt header`,
      );
    }
    const bytes = numel * SAFE_DTYPE_BYTES[dtype as SafeDType];
    if (end - begin !== bytes) {
      throw new Error(
        `${at}: shape [${shape.join(",")}] of ${dtype} needs ${bytes} bytes but data_offsets span ${end - begin}`,
      );
    }
    tensors.set(name, { dtype: dtype as SafeDType, shape: shape as number[], begin, end });
  }
  const sorted = [...tensors.entries()]
    .filter(([, t]) => t.end > t.begin)
    .sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][1].begin < sorted[i - 1][1].end) {
      throw new Error(
        `${where}: tensors "${sorted[i - 1][0]}" and "${sorted[i][0]}" overlap in the data section`,
      );
    }
  }
  return { tensors, metadata, dataStart };
}
