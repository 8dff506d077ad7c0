export { dpoLossTensor, type PreferenceTensors } from "./tensor/dpo-loss-tensor.js";
export { type SequenceLogProbs, sequenceLogProbs } from "./tensor/sequence-log-probs.js";
export { epochOrder, microBatch } from "./trainer/batch-order.js";
export { precomputeReferenceLogProbs } from "./trainer/reference-log-probs.js";
export {
  type CompletionRequest,
  type LikelihoodGuard,
  type ScoredCompletions,
  type SequenceScorer,
  SrDpoTrainer,
  type SrDpoTrainerOptions,
  type TrainablePolicy,
} from "./trainer/trainer.js";
