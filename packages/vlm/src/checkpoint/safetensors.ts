// The safetensors format (8-byte little-endian header length, a JSON header of
// name → {dtype, shape, data_offsets}, then the raw little-endian bytes), read strictly: a file
// from elsewhere is untrusted, so every inconsistency is an error naming the file and the tensor.
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "@sr2se/core";

/** A tensor read from or written to a safetensors file: float data as Float32Array, integers as Int32Array. */
export interface HostTensor {
  dtype: "F32" | "I32";
  shape: number[];
  data: Float32Array | Int32Array;
}

/** The element types this reader accepts and their byte widths (F16/BF16/F64 widen to F32, I64 narrows to I32). */
const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8, U8: 1, BOOL: 1 };
const MAX_HEADER = 100 * 1024 * 1024;

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Returns the tensors of a safetensors buffer; `where` names the file in errors. */
export function parseSafetensors(buf: Uint8Array, where: string): Map<string, HostTensor> {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  if (buf.length < 8) fail(`truncated file: ${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  if (headerLen > MAX_HEADER) fail(`header length ${headerLen} is absurd (over ${MAX_HEADER} bytes)`);
  if (8 + headerLen > buf.length)
    fail(`truncated file: header of ${headerLen} bytes runs past the end of the ${buf.length}-byte file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen)));
  } catch (err) {
    return fail(`header is not JSON: ${(err as Error).message}`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) fail("header is not a JSON object");
  const dataStart = 8 + headerLen;
  const dataLen = buf.length - dataStart;
  const out = new Map<string, HostTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(info?.dtype);
    const width = BYTES[dtype];
    if (width === undefined) fail(`tensor "${name}": unsupported dtype ${JSON.stringify(info?.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0 || d > 2 ** 31))
      fail(`tensor "${name}": bad shape ${JSON.stringify(shape)}`);
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0))
      fail(`tensor "${name}": bad data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as [number, number];
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin) fail(`tensor "${name}": data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataLen)
      fail(`truncated file: tensor "${name}" needs bytes up to ${end} but the data section has ${dataLen}`);
    if (end - begin !== n * width)
      fail(
        `tensor "${name}": shape ${JSON.stringify(shape)} of ${dtype} needs ${n * width} bytes, data_offsets give ${end - begin}`,
      );
    spans.push([begin, end, name]);
    const bytes = buf.subarray(dataStart + begin, dataStart + end);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let data: Float32Array | Int32Array;
    let kind: "F32" | "I32" = "F32";
    if (dtype === "F32") data = new Float32Array(new Uint8Array(bytes).buffer);
    else if (dtype === "F64") data = new Float32Array(n).map((_, i) => view.getFloat64(i * 8, true));
    else if (dtype === "F16") data = new Float32Array(n).map((_, i) => f16ToF32(view.getUint16(i * 2, true)));
    else if (dtype === "BF16") {
      const u = new Uint32Array(n);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16;
      data = new Float32Array(u.buffer);
    } else {
      kind = "I32";
      if (dtype === "I32") data = new Int32Array(new Uint8Array(bytes).buffer);
      else if (dtype === "I64") data = new Int32Array(n).map((_, i) => Number(view.getBigInt64(i * 8, true)));
      else data = new Int32Array(n).map((_, i) => view.getUint8(i));
    }
    out.set(name, { dtype: kind, shape: shape as number[], data });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`tensors "${spans[i - 1][2]}" and "${spans[i][2]}" overlap`);
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
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as HostTensor;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(
        `safetensors: tensor "${name}" has ${t.data.length} values for shape ${JSON.stringify(t.shape)}`,
      );
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n * 4] };
    offset += n * 4;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const t = tensors.get(name) as HostTensor;
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(src, at);
    at += src.length;
  }
  return out;
}

/** Writes named tensors to a safetensors file atomically. */
export async function writeSafetensors(
  file: string,
  tensors: Map<string, HostTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
