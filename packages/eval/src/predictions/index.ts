export { EvalInputError, type EvalInputKind, firstIds } from "./errors.js";
export { answerText, descriptionText, matchPredictions } from "./match.js";
export { type DataRecords, readData, readPredictions, recordId } from "./read.js";
