export * from "./schemas.js";
export { RecordError, describeIssue, type SkippedLine } from "./jsonl/errors.js";
export { JsonlReader, readJsonl, type ReadOptions } from "./jsonl/reader.js";
export { readRecords, type RecordsResult } from "./jsonl/records.js";
export { JsonlWriter, type WriterOptions } from "./jsonl/writer.js";
export { writeDirAtomic, writeFileAtomic } from "./fs/atomic.js";
export { Rng } from "./rng.js";
export type { GenerateOptions, GenerateRequest, Generation, Message, VisionLanguagePolicy } from "./policy.js";
export { extractBoxed, formatResponse, parseResponse, type ParsedResponse } from "./response.js";
export {
  OpenAIChatClient,
  OpenAIError,
  imageDataUrl,
  sniffImageMime,
  type ChatContentPart,
  type ChatMessage,
  type ChatOptions,
  type ChatResult,
  type OpenAIChatClientOptions,
} from "./openai/client.js";
export { createProgress, type Progress, type ProgressOptions } from "./progress.js";
