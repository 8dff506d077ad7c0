export {
  type BootstrapOptions,
  type Interval,
  type PairedBootstrapResult,
  pairedBootstrap,
} from "./bootstrap.js";
export {
  chairStatistic,
  meanScoreStatistic,
  popeF1Statistic,
  type SummedStatistic,
  statisticFor,
} from "./statistic.js";
export {
  type ComparableResult,
  type Comparison,
  type ComparisonRow,
  compareResults,
  resultsOf,
} from "./table.js";
