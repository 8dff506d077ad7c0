export { recoverDirAtomic, writeDirAtomic, writeFileAtomic } from "./fs/atomic.js";
export { DatasetPathError, type PathSource, resolveDatasetPath } from "./fs/dataset-path.js";
export { exists } from "./fs/exists.js";
export {
  acquireOutputLock,
  type LockOwner,
  lockFileOf,
  type OutputLock,
  OutputLockedError,
} from "./fs/output-lock.js";
export { describeIssue, RecordError, type SkippedLine } from "./jsonl/errors.js";
export {
  MetricsLog,
  type MetricsLogOptions,
  type MetricsRow,
  MetricsRowSchema,
} from "./jsonl/metrics-log.js";
export { type PairRecord, readPreferencePairs } from "./jsonl/preference-pairs.js";
export { JsonlReader, MAX_LINE_BYTES, type ReadOptions, readJsonl } from "./jsonl/reader.js";
export { MAX_JSON_BYTES, type RecordsResult, readRecords, recordsLayout } from "./jsonl/records.js";
export { JsonlWriter, type WriterOptions } from "./jsonl/writer.js";
export {
  type ChatContentPart,
  type ChatMessage,
  type ChatOptions,
  type ChatResult,
  imageDataUrl,
  isFatalEndpointError,
  OpenAIChatClient,
  type OpenAIChatClientOptions,
  OpenAIError,
  sniffImageMime,
} from "./openai/client.js";
export type {
  GenerateOptions,
  GenerateRequest,
  Generation,
  Message,
  StreamedToken,
  TokenLogprob,
  VisionLanguagePolicy,
} from "./policy.js";
export {
  type BatcherCounters,
  PolicyBatcher,
  type PolicyBatcherOptions,
} from "./policy-batcher.js";
export { mapPool } from "./pool.js";
export { createProgress, type Progress, type ProgressOptions } from "./progress.js";
export { extractBoxed, formatResponse, type ParsedResponse, parseResponse } from "./response.js";
export { Rng } from "./rng.js";
export * from "./schemas.js";
export { VISION_SR1_VERIFY_PROMPT, verifyPrompt } from "./self-reward-prompt.js";
