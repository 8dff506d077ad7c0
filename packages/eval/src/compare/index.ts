export {
  type BootstrapOptions,
  type Interval,
  type PairedBootstrapResult,
  type PairedGroup,
  pairedBootstrap,
  pooledPairedBootstrap,
} from "./bootstrap.js";
export {
  chairStatistic,
  meanScoreStatistic,
  popeF1Statistic,
  popeFalsePositiveStatistic,
  type SummedStatistic,
  statisticFor,
} from "./statistic.js";
export {
  type ComparableResult,
  type CompareOptions,
  type Comparison,
  type ComparisonRow,
  compareResults,
  compareResultsPooled,
  resultName,
  resultsOf,
} from "./table.js";
