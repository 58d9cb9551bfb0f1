/**
 * The predictor stage: one feature encoding for training and serving; MLP, LR and SVM behind one
 * `Predictor` interface; profile data sets in, versioned bundles out. tfjs (MLP training) and libsvm
 * (RBF SVR) are loaded only when used, so serving from a bundle stays light.
 */
export {
  type FeatureSpec,
  type FeatureEncoding,
  type GroupMember,
  type ModelWork,
  BLOCK_WIDTH,
  FEATURE_ENCODINGS,
  DEFAULT_FEATURE_ENCODING,
  blockWidth,
  featureEncoding,
  segmentGflops,
  makeFeatureSpec,
  featureCount,
  featureNames,
  encodeGroup,
  encodeGroups,
  decodeGroup,
  describeFeatureSpec,
  sameFeatureSpec,
} from './features.js';
export {
  type Dataset,
  type DataSource,
  type ProfileData,
  type ProfileModel,
  type ProfileSample,
  PROFILE_FORMAT,
  PROFILE_VERSION,
  STAT_COLUMNS,
  type WorkResolver,
  type DuplicateReport,
  type LabelNoise,
  PROFILE_VERSIONS,
  configurationKey,
  loadDataset,
  readProfileData,
  readProfileMeta,
  subsetDataset,
} from './dataset.js';
export type { Predictor } from './predictor.js';
export {
  type Interval,
  type ModelRange,
  type TrainedRanges,
  type ServedModel,
  type RangeFinding,
  LARGE_GAP,
  trainedRanges,
  rangesOfGroups,
  rangesFromDataSets,
  checkServingRanges,
} from './ranges.js';
export {
  type BundleExpectations,
  type BundleJson,
  type Modeling,
  type LabelTransform,
  type TrainingRecord,
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  BUNDLE_FILE,
  MODELINGS,
  loadPredictor,
} from './bundle.js';
export {
  type ErrorMetrics,
  type SplitMetrics,
  type CrossValidationReport,
  type EvaluationReport,
  type SelectionReport,
  type TrainSetting,
  errorMetrics,
  evaluatePredictor,
  holdoutSplit,
  kFoldSplits,
} from './evaluate.js';
export {
  type TrainOptions,
  type TrainProgressEvent,
  type TrainResult,
  type TrainSummary,
  type TrainedBundle,
  type KindMetrics,
  type TrainMode,
  type SvmKernel,
  trainPredictor,
  saveTrainResult,
  describeTrainSummary,
  progressBarReporter,
} from './train.js';
export { type MlpOptimizer, DEFAULT_MLP } from './mlp-options.js';
