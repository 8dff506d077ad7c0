// Model and optimizer files: safetensors.

export { MAX_HEADER_BYTES, type SafeDType, type SafeHeader, type SafeTensorInfo } from "./header.js";
export {
  decodeSafetensors,
  encodeSafetensors,
  type HostArray,
  type LoadOptions,
  loadSafetensors,
  readHeader,
  readSafetensors,
  SafetensorsFile,
  saveSafetensors,
  writeSafetensors,
} from "./safetensors.js";
