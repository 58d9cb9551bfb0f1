/** Figures (Vega-Lite → SVG/PNG with a shipped font), HTML/Markdown reports and the paper's numbers. */
export { renderVegaLite, vegaLiteToSvg, rasterizeSvg, writePngFromSvg, svgSize, installTextMetrics, rendererVersions } from './render.js';
export type { VegaLiteSpec, RenderOptions, RenderResult, Raster } from './render.js';
export { FONT_FAMILY, FONT_STACK, fontsDir, fontFiles, FontMetrics, fontMetrics } from './fonts.js';
export type { FontFiles } from './fonts.js';
export {
  THEME_CONFIG,
  POLICY_NAMES,
  BALANCER_NAMES,
  PREDICTOR_NAMES,
  POLICY_COLORS,
  BALANCER_COLORS,
  PREDICTOR_COLORS,
  MODEL_COLORS,
  FALLBACK_COLORS,
  OFFERED_LOAD_COLOR,
  POLICY_LABELS,
  BALANCER_LABELS,
  PREDICTOR_LABELS,
  MODEL_SHORT_NAMES,
  fixedColorScale,
  policyColorScale,
  balancerColorScale,
  predictorColorScale,
  seriesColorScale,
} from './theme.js';
export type { PolicyName, BalancerName, PredictorName, FixedColorScale } from './theme.js';
export {
  combinationLabel,
  ecdfPoints,
  predictionErrorSpec,
  tailLatencySpec,
  violationRatioSpec,
  peakThroughputSpec,
  overloadCompletionsSpec,
  decisionTimeSpec,
  waysOutcomeSpec,
  latencyCdfSpec,
  clusterTimeSeriesSpec,
} from './figures.js';
export type {
  FigureText,
  PredictionErrorRow,
  TailLatencyRow,
  ViolationRow,
  PeakThroughputRow,
  OverloadCompletionRow,
  DecisionTimeRow,
  WaysOutcomeRow,
  LatencySamples,
  ClusterStepRow,
  OfferedLoadRow,
} from './figures.js';
export { writeReport, escapeHtml, formatCell, inlineSvg } from './report.js';
export type { ReportInput, ReportSection, ReportFigure, ReportTable, TableCell, WrittenReport } from './report.js';
export {
  PAPER_PAIRS,
  PAPER_PAIR_QOS_MS,
  PAPER_MLP_MAPE_PCT,
  PAPER_PREDICTORS,
  PAPER_MLP_POOLED,
  PAPER_POLICIES,
  PAPER_SERVING,
  PAPER_MIG_1IN4,
  PAPER_COMPLETION_GAIN_PCT,
  PAPER_HEADLINE,
  PAPER_2IN7_FIGURE_RANGES,
  PAPER_DECISION_MS,
  PAPER_CLUSTER,
  PAPER_MOTIVATION_RESNET152_MS,
  predictorComparison,
  servingComparison,
  headlineComparison,
} from './paper.js';
export type {
  PaperComparison,
  PaperPredictorSummary,
  PaperPolicy,
  PaperServingResult,
  PaperServingExperiment,
  PaperServingExperimentId,
  OurPredictorNumbers,
} from './paper.js';
