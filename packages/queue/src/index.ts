export { defineJobKind, type JobContext, type JobKind, JobRefusedError, QUEUE_NAME } from "./kinds.js";
export { type ChunkClient, jobIdOf, openChunkClient, type RunChunksOptions, runChunks } from "./producer.js";
export { redactRedisUrl, redisConnection } from "./redis.js";
export { type RunningWorker, startWorker, type WorkerOptions } from "./worker.js";
