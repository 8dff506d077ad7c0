// Conversion between safetensors bytes and our dtypes: F16/BF16 widen to float32, I64 narrows to
// int32 (refusing values out of range), U8 becomes int32, BOOL bool.
import type { DType, TypedArray } from "../backend/backend.js";
import type { SafeDType } from "./header.js";

/** Returns the dtype a safetensors dtype loads as. */
export function loadedDType(d: SafeDType): DType {
  switch (d) {
    case "F64":
      return "float64";
    case "F32":
    case "F16":
    case "BF16":
      return "float32";
    case "I32":
    case "I64":
    case "U8":
      return "int32";
    case "BOOL":
      return "bool";
  }
}

/** Returns the safetensors dtype our dtype is written as. */
export function savedDType(d: DType): SafeDType {
  return ({ float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" } as const)[d];
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** True on little-endian hosts (all current ones): their typed arrays already hold the file's byte order. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes little-endian bytes of a safetensors dtype into the typed array it loads as. */
export function decode(bytes: Uint8Array, dtype: SafeDType, name: string): TypedArray {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // a byte copy into a fresh (aligned) buffer where the layout already matches; `new Uint8Array(x)`
  // copies even when x is a Node Buffer, whose slice() would share the file's whole buffer
  if (LITTLE_ENDIAN && dtype === "F32") return new Float32Array(new Uint8Array(bytes).buffer);
  if (LITTLE_ENDIAN && dtype === "I32") return new Int32Array(new Uint8Array(bytes).buffer);
  if (LITTLE_ENDIAN && dtype === "F64") return new Float64Array(new Uint8Array(bytes).buffer);
  switch (dtype) {
    case "F32": {
      const n = bytes.byteLength / 4;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      return out;
    }
    case "F64": {
      const n = bytes.byteLength / 8;
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      return out;
    }
    case "F16": {
      const n = bytes.byteLength / 2;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true));
      return out;
    }
    case "BF16": {
      const n = bytes.byteLength / 2;
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(i * 2, true) << 16;
      return out;
    }
    case "I32": {
      const n = bytes.byteLength / 4;
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
      return out;
    }
    case "I64": {
      const n = bytes.byteLength / 8;
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n)
          throw new Error(`safetensors: tensor "${name}" element ${i} (${v}) does not fit int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case "U8":
      return Int32Array.from(bytes);
    case "BOOL":
      return Uint8Array.from(bytes, (b) => (b ? 1 : 0));
  }
}

/** Encodes a typed array of our dtype as little-endian safetensors bytes. */
export function encode(data: TypedArray, dtype: DType): Uint8Array {
  if (dtype === "bool") return Uint8Array.from(data as Uint8Array, (b) => (b ? 1 : 0));
  const native =
    (dtype === "float32" && data instanceof Float32Array) ||
    (dtype === "int32" && data instanceof Int32Array) ||
    (dtype === "float64" && data instanceof Float64Array);
  if (LITTLE_ENDIAN && native)
    return new Uint8Array(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const bytes = new Uint8Array(data.length * (dtype === "float64" ? 8 : 4));
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) {
    if (dtype === "float32") dv.setFloat32(i * 4, data[i], true);
    else if (dtype === "float64") dv.setFloat64(i * 8, data[i], true);
    else dv.setInt32(i * 4, data[i], true);
  }
  return bytes;
}
