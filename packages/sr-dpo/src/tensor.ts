export { dpoLossTensor, type PreferenceTensors } from "./tensor/dpo-loss-tensor.js";
export { type SequenceLogProbs, sequenceLogProbs } from "./tensor/sequence-log-probs.js";
