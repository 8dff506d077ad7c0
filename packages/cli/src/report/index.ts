// The report of a pipeline or experiment run: report.md with PNG plots rendered from SVG by sharp.
export { type BarChartSpec, barChartSvg, type Estimate } from "./bar-chart.js";
export { type GalleryEntry, galleryEntries, gallerySvg, hallucinatedMentions } from "./gallery.js";
export { type GoalInput, goalStatements } from "./goals.js";
export { gridSvg, type LineChartSpec, type LinePoint, lineChartSvg } from "./line-chart.js";
export { noiseTable, pairedHalfWidth, popeSizeStatement } from "./noise.js";
export { gallerySection, type IprRun, pairStatsSection, statsFileOf } from "./pairs.js";
export { imageDataUri, svgToPng, writePng } from "./png.js";
export {
  headlineTable,
  type RoundPoint,
  resultsSection,
  roundsSection,
  rowKey,
  type VariantComparison,
} from "./results.js";
export { readMetricsLog, type TrainingLog, trainingSection } from "./training.js";
export { ReportWriter } from "./writer.js";
