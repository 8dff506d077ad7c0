// safetensors read and write. Whole-buffer functions for small files; SafetensorsFile reads the header
// alone and then one tensor at a time, so files of several GB are never loaded whole.
import type { FileHandle } from "node:fs/promises";
import type { Backend, DType, TypedArray } from "../backend/backend.js";
import { tensor } from "../creation.js";
import type { Tensor } from "../tensor.js";
import { decode, encode, loadedDType, savedDType } from "./convert.js";
import { headerLength, parseHeader, type SafeHeader, type SafeTensorInfo } from "./header.js";

/** Options of the readers. */
export interface LoadOptions {
  /** Device or backend name for the loaded tensors (the default device otherwise). */
  device?: string | Backend;
}

/**
 * Sets an own, enumerable property, even for a name such as `__proto__` (a tensor name comes from the
 * file: a plain assignment would replace the object's prototype and drop the tensor).
 */
function setOwn<T>(target: Record<string, T>, name: string, value: T): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

function build(info: SafeTensorInfo, bytes: Uint8Array, name: string, opts: LoadOptions): Tensor {
  const data = decode(bytes, info.dtype, name);
  return tensor(data, { shape: info.shape, dtype: loadedDType(info.dtype), device: opts.device });
}

/** Returns the parsed header of a safetensors file held in memory. */
export function readHeader(bytes: Uint8Array, where = "safetensors"): SafeHeader {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, where);
  return parseHeader(bytes.subarray(8, 8 + n), bytes.length, where);
}

/** Returns every tensor of a safetensors file held in memory (and its metadata). */
export function loadSafetensors(
  bytes: Uint8Array,
  opts: LoadOptions = {},
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const header = readHeader(bytes);
  const tensors: Record<string, Tensor> = {};
  for (const [name, info] of header.tensors) {
    const t = build(
      info,
      bytes.subarray(header.dataStart + info.begin, header.dataStart + info.end),
      name,
      opts,
    );
    setOwn(tensors, name, t);
  }
  return { tensors, metadata: header.metadata };
}

/** A tensor held in host memory: what `decodeSafetensors` returns and `encodeSafetensors` takes. */
export interface HostArray {
  dtype: DType;
  shape: readonly number[];
  data: TypedArray;
}

/**
 * Returns every tensor of a safetensors file held in memory as host arrays (no device involved),
 * with its metadata; `where` names the file in errors. Dtypes load as in `loadSafetensors`.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  where = "safetensors",
): { tensors: Map<string, HostArray>; metadata: Record<string, string> } {
  const header = readHeader(bytes, where);
  const tensors = new Map<string, HostArray>();
  for (const [name, info] of header.tensors) {
    const raw = bytes.subarray(header.dataStart + info.begin, header.dataStart + info.end);
    tensors.set(name, {
      dtype: loadedDType(info.dtype),
      shape: info.shape,
      data: decode(raw, info.dtype, name),
    });
  }
  return { tensors, metadata: header.metadata };
}

/** Returns the bytes of a safetensors file holding host arrays (sorted by name) and string metadata. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, HostArray> | Record<string, HostArray>,
  metadata?: Record<string, string>,
): Uint8Array {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = map.get(name) as HostArray;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new Error(
        `safetensors: tensor "${name}" has ${t.data.length} values for shape [${t.shape.join(",")}]`,
      );
    }
    const blob = encode(t.data, t.dtype);
    setOwn(header, name, {
      dtype: savedDType(t.dtype),
      shape: t.shape,
      data_offsets: [offset, offset + blob.length],
    });
    blobs.push(blob);
    offset += blob.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const b of blobs) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Resolves to the bytes of a safetensors file holding the tensors (sorted by name) and string metadata. */
export async function saveSafetensors(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const host = new Map<string, HostArray>();
  for (const [name, t] of Object.entries(tensors))
    host.set(name, { dtype: t.dtype, shape: t.shape, data: await t.data() });
  return encodeSafetensors(host, metadata);
}

/** Writes tensors to path as safetensors, through a temporary file renamed into place. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = await saveSafetensors(tensors, metadata);
  const { rename, writeFile } = await import("node:fs/promises");
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** A safetensors file opened for reading tensor by tensor. */
export class SafetensorsFile {
  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly header: SafeHeader,
  ) {}

  /** Opens path and reads (only) its header. */
  static async open(path: string): Promise<SafetensorsFile> {
    // node:fs is imported on use so the package still loads in browsers
    const { open } = await import("node:fs/promises");
    const handle = await open(path, "r");
    try {
      const { size } = await handle.stat();
      const first = new Uint8Array(8);
      await handle.read(first, 0, Math.min(8, size), 0);
      const n = headerLength(first, size, path);
      const json = new Uint8Array(n);
      await handle.read(json, 0, n, 8);
      return new SafetensorsFile(handle, path, parseHeader(json, size, path));
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Returns the tensor names in file order. */
  keys(): string[] {
    return [...this.header.tensors.entries()].sort((a, b) => a[1].begin - b[1].begin).map(([k]) => k);
  }

  /** Returns the metadata strings. */
  get metadata(): Record<string, string> {
    return this.header.metadata;
  }

  /** Returns dtype, shape and byte range of a tensor. */
  info(name: string): SafeTensorInfo {
    const info = this.header.tensors.get(name);
    if (!info) throw new Error(`${this.path}: no tensor named "${name}"`);
    return info;
  }

  /** Resolves to one tensor, reading only its bytes. */
  async tensor(name: string, opts: LoadOptions = {}): Promise<Tensor> {
    const info = this.info(name);
    const bytes = new Uint8Array(info.end - info.begin);
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await this.handle.read(
        bytes,
        done,
        bytes.length - done,
        this.header.dataStart + info.begin + done,
      );
      if (bytesRead === 0) throw new Error(`${this.path}: file ended while reading tensor "${name}"`);
      done += bytesRead;
    }
    return build(info, bytes, name, opts);
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Resolves to every tensor of the file at path, read one at a time. */
export async function readSafetensors(
  path: string,
  opts: LoadOptions = {},
): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  const file = await SafetensorsFile.open(path);
  try {
    const tensors: Record<string, Tensor> = {};
    for (const k of file.keys()) setOwn(tensors, k, await file.tensor(k, opts));
    return { tensors, metadata: file.metadata };
  } finally {
    await file.close();
  }
}
