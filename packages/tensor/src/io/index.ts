// Model and optimizer files: safetensors.
export { type LoadOptions, SafetensorsFile, loadSafetensors, readHeader, readSafetensors, saveSafetensors, writeSafetensors } from "./safetensors.js";
export { type SafeDType, type SafeHeader, type SafeTensorInfo, MAX_HEADER_BYTES } from "./header.js";
