export {
  type BenchCounts,
  type BenchManifest,
  type BenchOptions,
  buildBenchmarks,
  DEFAULT_BENCH_COUNTS,
} from "./benchmarks/build.js";
export { type MathVistaProblem, mathVistaQuery, toMathVista } from "./benchmarks/mathvista.js";
export { MMMU_SUBJECTS, type MmmuProblem, toMmmu } from "./benchmarks/mmmu.js";
export { type MmVetProblem, mmvetProblem } from "./benchmarks/mmvet.js";
export {
  POPE_SPLITS,
  type PopeImage,
  type PopeQuestion,
  type PopeSplit,
  type PopeStatistics,
  popeQuestions,
  popeStatistics,
  popeText,
} from "./benchmarks/pope.js";
export { type CheckReport, checkDataset } from "./dataset/check.js";
export { type Batch, DataLoader, type DataLoaderOptions } from "./dataset/loader.js";
export {
  type Dataset,
  type DatasetRecord,
  mapLimit,
  type ReadDatasetOptions,
  readDataset,
} from "./dataset/read.js";
export { corruptImage, IMAGE_CORRUPTIONS, type ImageCorruption } from "./image/corrupt.js";
export { adler32, zlibDeflate } from "./image/deflate.js";
export {
  DEFAULT_MAX_PIXELS,
  DEFAULT_NORMALIZE,
  type Fit,
  ImageError,
  type ImageOptions,
  loadImageRgb,
  type Normalize,
  probeImage,
  rgbToChw,
} from "./image/load.js";
export { crc32, encodePng } from "./image/png.js";
export { circleSdf, polygonSdf, RgbImage } from "./image/raster.js";
export {
  type ClutterConfig,
  DEFAULT_WORLD_CONFIG,
  FAMILIES,
  type Family,
  resolveWorldConfig,
  type WorldConfig,
  type WorldConfigInput,
} from "./shapes/config.js";
export { article, describeScene, objectPhrase, placedName } from "./shapes/describe.js";
export { type MentionVocabulary, SHAPES_WORLD_VOCABULARY } from "./shapes/mention-vocabulary.js";
export { LETTERS, listedCategories, makeQuestion, type Question, type Solution } from "./shapes/questions.js";
export { renderScene, renderScenePng } from "./shapes/render.js";
export {
  type CorrectionDialogue,
  correctionDialogue,
  corruptObjects,
  generateSample,
  goldResponse,
  pickQuestion,
  type ShapesSample,
} from "./shapes/sample.js";
export { type Scene, type ShapeObject, sampleScene } from "./shapes/scene.js";
export { type Manifest, SPLITS, type Split, type SynthOptions, synthesize } from "./shapes/synth.js";
export { DEFAULT_THEMES, type Theme } from "./shapes/themes.js";
export * from "./shapes/vocabulary.js";
export { textVocabulary, words } from "./shapes/vocabulary-stats.js";
