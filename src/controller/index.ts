/**
 * The controller stage: policies (fcfs, sjf, edf, abacus, concurrent), the Abacus multi-way search, load
 * generation, the serving loop with exact accounting (over a trace, or online submissions), run logs and
 * summaries, and the peak-load search.
 * Policies and metrics are described in `src/controller/POLICIES.md`.
 */
export * from './types.js';
export { MonotonicClock, VirtualClock } from './clock.js';
export {
  generateTrace, parseTraceCsv, readTraceCsv, formatTraceCsv, writeTraceCsv, parseQosSpec, qosFor, zooServices, zooOperatorCounts,
  type ArrivalProcess, type LoadSpec, type QosSpec, type ServiceSpec,
} from './load.js';
export { searchSplit, largestFittingPrefix, type SplitSearchInput, type SplitSearchResult } from './search.js';
export { predictedToMiss } from './policies.js';
export { runServing, BARRIER_MODES, type ServingOptions, type BarrierMode } from './serving.js';
export { CalibratedLatencyModel, type CalibrationScope } from './calibration.js';
export {
  OnlineQueue, LatencyCalibration, DelayTail,
  type OnlineService, type OnlineSubmission, type OnlineOutcome, type OnlineQueueOptions, type OnlineStatus, type OnlineModelStatus, type RejectReason,
} from './online.js';
export {
  SimulatedRunner, AnalyticLatencyModel, latencyFromModel, latencyPerMemberFromModel, simulateServing, toGroupMember,
  type SimulatedLatencyFn, type SimulatedTiming, type SimulatedRunnerOptions, type SimulatedGroupRecord, type AnalyticLatencyOptions, type SimulationOptions,
} from './simulate.js';
export {
  MemoryRunLog, FileRunLog, openRunLog, teeRunLog, summarizeRun, formatQueryCsv, QUERY_CSV_COLUMNS,
  type RunLogFormat, type RunLogFileOptions, type RunMeta,
} from './runlog.js';
export { findPeakLoad, meetsServerRule, type PeakSearchOptions, type PeakPoint, type PeakResult } from './peak.js';
