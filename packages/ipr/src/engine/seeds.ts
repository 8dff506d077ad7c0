import { Rng } from "@sr2se/core";

/**
 * Returns the sampling seed of one request: a hash of the run seed, the sample id and the request's
 * place in that sample's refinement (`step`: the round, or a named extra pass such as the self-reward
 * check, and the attempt within it). It depends on nothing else, so a sample's responses are the
 * same whatever the batch size, the shard, the concurrency or the order of the file.
 */
export function requestSeed(runSeed: number, sampleId: string, step: number | string, attempt = 0): number {
  return new Rng(`ipr\u0000${runSeed}\u0000${sampleId}\u0000${step}\u0000${attempt}`).nextU32();
}
