/**
 * The predictor bundle folder (`abacus.predictor` v3, which adds the trained ranges; v1 and v2 are still read): `bundle.json` plus, for some models, data files
 * next to it whose sha256 is recorded in `bundle.json`. This module only writes and checks the format; it
 * knows no model (bundle.ts turns a checked bundle into a Predictor).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, errorMessage } from '../common/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../common/fsutil.js';
import type { Provenance } from '../common/provenance.js';
import { type FeatureSpec, type ModelWork, describeFeatureSpec, featureCount, featureEncoding, validateFeatureSpec } from './features.js';
import type { DataSource } from './dataset.js';
import type { EvaluationReport } from './evaluate.js';
import { type TrainedRanges, validateRanges } from './ranges.js';

export const BUNDLE_FORMAT = 'abacus.predictor';
/**
 * Written by this version (3: `ranges`, what the predictor was trained on); version 1 (feature encoding 1,
 * labels in ms) and 2 (no ranges) bundles are still read.
 */
export const BUNDLE_VERSION = 3;
export const BUNDLE_VERSIONS_READ: readonly number[] = [1, 2, 3];
export const BUNDLE_FILE = 'bundle.json';

export type Modeling = 'mlp' | 'lr' | 'svm';
export const MODELINGS: readonly Modeling[] = ['mlp', 'lr', 'svm'];

/** Per-feature standardisation: x' = (x - mean) / std (std is 1 for a constant feature). */
export interface Standardization {
  mean: number[];
  std: number[];
}

/**
 * The label's scaling: the model predicts (y - mean) / std where y is the latency in ms (`transform`
 * absent or 'none') or its natural logarithm ('log': training on log-latency weighs every group by its
 * relative error, which is what MAPE and a QoS budget care about; predictions are exp(y)).
 */
export interface LabelScaling {
  unit: 'ms';
  mean: number;
  std: number;
  transform?: LabelTransform;
}

export type LabelTransform = 'none' | 'log';
export const LABEL_TRANSFORMS: readonly LabelTransform[] = ['none', 'log'];

/** A dense layer; `kernel` is inputs × outputs, row-major (tfjs layout). */
export interface DenseLayerJson {
  inputs: number;
  outputs: number;
  kernel: number[];
  bias: number[];
}

export interface MlpModelJson {
  kind: 'mlp';
  activation: 'relu';
  layers: DenseLayerJson[];
}

/** y = intercept + Σ weights[k] · x'[k] on standardised features x'. */
export interface LinearModelJson {
  kind: 'linear';
  weights: number[];
  intercept: number;
}

/** An RBF ε-SVR trained by libsvm; the model text is a file of the bundle. */
export interface LibsvmModelJson {
  kind: 'libsvm';
  kernel: 'rbf';
  file: string;
  sha256: string;
  chars: number;
}

export type ModelJson = MlpModelJson | LinearModelJson | LibsvmModelJson;

/** How the model was trained: data, seed, options, and what the fit reported. */
export interface TrainingRecord {
  provenance: Provenance;
  dataSets: DataSource[];
  mode: 'all' | 'onebyone';
  /** The combination of a one-by-one model; null for `all`. */
  combination: string | null;
  seed: number;
  rows: number;
  hyperParameters: Record<string, string | number | boolean | number[]>;
  fit: Record<string, string | number | boolean | null>;
}

export interface BundleJson {
  format: typeof BUNDLE_FORMAT;
  version: number;
  name: string;
  modeling: Modeling;
  featureSpec: FeatureSpec;
  featureNames: string[];
  standardization: Standardization;
  label: LabelScaling;
  model: ModelJson;
  training: TrainingRecord | null;
  evaluation: EvaluationReport | null;
  /** Version 3: the batch sizes, sequence lengths, operators and FLOPs of the training rows (absent before). */
  ranges?: TrainedRanges;
}

/** A bundle file other than bundle.json. */
export interface BundleFile {
  name: string;
  data: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Write a bundle folder: data files first, then bundle.json (atomically), so a torn write is detectable. */
export function writeBundle(dir: string, bundle: BundleJson, files: BundleFile[] = []): void {
  for (const f of files) writeFileAtomic(join(dir, f.name), f.data);
  writeJsonAtomic(join(dir, BUNDLE_FILE), bundle);
}

function isNumberArray(v: unknown, length: number): v is number[] {
  return Array.isArray(v) && v.length === length && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** Read and check bundle.json (format, version, shapes and finiteness of every number). */
export function readBundleJson(dir: string): BundleJson {
  const path = join(dir, BUNDLE_FILE);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new InputError(`${dir}: predictor bundle folder not found`);
  if (!existsSync(path)) throw new InputError(`${dir}: not a predictor bundle (no ${BUNDLE_FILE})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: corrupt bundle (${errorMessage(err)})`);
  }
  const bad = (msg: string): never => {
    throw new InputError(`${path}: corrupt bundle: ${msg}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad('expected a JSON object');
  const b = raw as Record<string, unknown>;
  if (b.format !== BUNDLE_FORMAT) throw new InputError(`${path}: format is ${JSON.stringify(b.format)}, expected "${BUNDLE_FORMAT}"`);
  if (typeof b.version !== 'number' || !BUNDLE_VERSIONS_READ.includes(b.version)) {
    throw new InputError(`${path}: ${BUNDLE_FORMAT} version ${JSON.stringify(b.version)} is not supported (this abacus reads versions ${BUNDLE_VERSIONS_READ.join(', ')})`);
  }
  if (typeof b.modeling !== 'string' || !(MODELINGS as readonly string[]).includes(b.modeling)) bad(`unknown modeling ${JSON.stringify(b.modeling)}`);
  if (typeof b.name !== 'string') bad('missing name');
  const spec = validateFeatureSpec(b.featureSpec, path);
  if (b.version === 1 && featureEncoding(spec) !== 1) bad('a version 1 bundle has feature encoding 1');
  const width = featureCount(spec);
  const st = (b.standardization ?? {}) as Record<string, unknown>;
  if (!isNumberArray(st.mean, width) || !isNumberArray(st.std, width) || !(st.std as number[]).every((s) => s > 0)) {
    bad(`standardization needs ${width} finite means and positive stds`);
  }
  const label = (b.label ?? {}) as Record<string, unknown>;
  if (label.unit !== 'ms' || typeof label.mean !== 'number' || !Number.isFinite(label.mean) || typeof label.std !== 'number' || !(label.std > 0)) {
    bad('label needs unit "ms", a finite mean and a positive std');
  }
  if (label.transform !== undefined && !(LABEL_TRANSFORMS as readonly unknown[]).includes(label.transform)) {
    bad(`unknown label transform ${JSON.stringify(label.transform)} (expected ${LABEL_TRANSFORMS.join(' or ')})`);
  }
  const model = (b.model ?? {}) as Record<string, unknown>;
  if (model.kind === 'mlp') {
    if (b.modeling !== 'mlp') bad(`model kind mlp under modeling ${b.modeling}`);
    if (model.activation !== 'relu' || !Array.isArray(model.layers) || model.layers.length === 0) bad('mlp needs relu layers');
    let inputs = width;
    (model.layers as unknown[]).forEach((layer, i) => {
      const l = (layer ?? {}) as Record<string, unknown>;
      if (l.inputs !== inputs || typeof l.outputs !== 'number' || !Number.isInteger(l.outputs) || l.outputs < 1) {
        bad(`mlp layer ${i} has ${String(l.inputs)}→${String(l.outputs)} units, expected ${inputs} inputs`);
      }
      if (!isNumberArray(l.kernel, inputs * (l.outputs as number)) || !isNumberArray(l.bias, l.outputs as number)) {
        bad(`mlp layer ${i} weights have the wrong length or non-finite values`);
      }
      inputs = l.outputs as number;
    });
    if (inputs !== 1) bad(`mlp ends in ${inputs} outputs, expected 1`);
  } else if (model.kind === 'linear') {
    if (b.modeling === 'mlp') bad('linear model under modeling mlp');
    if (!isNumberArray(model.weights, width) || typeof model.intercept !== 'number' || !Number.isFinite(model.intercept)) {
      bad(`linear model needs ${width} finite weights and an intercept`);
    }
  } else if (model.kind === 'libsvm') {
    if (b.modeling !== 'svm') bad(`libsvm model under modeling ${b.modeling}`);
    if (model.kernel !== 'rbf' || typeof model.file !== 'string' || !/^[\w.-]+$/.test(model.file) || typeof model.sha256 !== 'string') {
      bad('libsvm model needs kernel "rbf", a file name and its sha256');
    }
  } else {
    bad(`unknown model kind ${JSON.stringify(model.kind)}`);
  }
  if (b.version >= 3) validateRanges(b.ranges, path);
  return raw as BundleJson;
}

/** Read a data file of a bundle and check its sha256. */
export function readBundleFile(dir: string, name: string, sha256: string): string {
  const path = join(dir, name);
  if (!existsSync(path)) throw new InputError(`${dir}: corrupt bundle: ${name} is missing`);
  const data = readFileSync(path, 'utf8');
  if (sha256Hex(data) !== sha256) throw new InputError(`${path}: corrupt bundle: sha256 does not match ${BUNDLE_FILE}`);
  return data;
}

/** What the caller needs the bundle to fit. */
export interface BundleExpectations {
  /** Every one of these model ids must be known to the bundle. */
  modelIds?: readonly number[];
  /** If given, names parallel to `modelIds`; each must match the bundle's name for that id. */
  modelNames?: readonly string[];
  /** The bundle must have exactly this many slots. */
  slots?: number;
  /** The bundle must be of this modeling. */
  modeling?: Modeling;
  /**
   * If given, the models' work tables, parallel to `modelIds` (per-operator GFLOPs and reference seq,
   * from their manifests): a bundle that stores work tables must match them (same model ids can be
   * other models, e.g. tiny and full-size builds). A bundle without them (feature encoding 1) is refused
   * when `requireWork` is set, since nothing it stores can tell.
   */
  work?: readonly ModelWork[];
  requireWork?: boolean;
}

/** Relative tolerance for comparing per-operator GFLOPs (stored as JSON numbers, recomputed the same way). */
const WORK_TOLERANCE = 1e-6;

/** Why two work tables differ (null: they match). */
export function workMismatch(have: ModelWork, want: ModelWork): string | null {
  if (have.operatorGflops.length !== want.operatorGflops.length) return `${have.operatorGflops.length} operators there, ${want.operatorGflops.length} here`;
  if (have.referenceSeq !== want.referenceSeq) return `reference seq ${have.referenceSeq} there, ${want.referenceSeq} here`;
  for (let i = 0; i < want.operatorGflops.length; i++) {
    const a = have.operatorGflops[i] as number;
    const b = want.operatorGflops[i] as number;
    if (Math.abs(a - b) > WORK_TOLERANCE * Math.max(Math.abs(a), Math.abs(b), 1e-12)) return `operator ${i} is ${a.toPrecision(4)} GFLOPs there, ${b.toPrecision(4)} here`;
  }
  return null;
}

/** Throw an InputError unless the bundle's spec fits the expectations. */
export function checkExpectations(dir: string, bundle: Pick<BundleJson, 'featureSpec' | 'modeling'>, exp: BundleExpectations): void {
  const spec = bundle.featureSpec;
  const trained = describeFeatureSpec(spec);
  if (exp.modelIds) {
    const missing = exp.modelIds.filter((id) => !spec.modelIds.includes(id));
    if (missing.length > 0) {
      throw new InputError(`predictor bundle ${dir} was trained for ${trained}; it does not know model${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
    exp.modelNames?.forEach((name, i) => {
      const id = exp.modelIds?.[i] as number;
      const have = spec.modelNames[spec.modelIds.indexOf(id)];
      if (have !== name) throw new InputError(`predictor bundle ${dir} was trained for ${trained}: model ${id} is "${have}" there, not "${name}"`);
    });
    if (exp.work) {
      if (!spec.work) {
        if (exp.requireWork) throw new InputError(`predictor bundle ${dir} stores no per-operator FLOPs (feature encoding 1), so it cannot be matched to these models`);
      } else {
        exp.work.forEach((want, i) => {
          const id = exp.modelIds?.[i] as number;
          const have = spec.work?.[spec.modelIds.indexOf(id)];
          const why = have ? workMismatch(have, want) : 'no work table there';
          if (why !== null) throw new InputError(`predictor bundle ${dir} was trained on another build of model ${id} (${spec.modelNames[spec.modelIds.indexOf(id)] ?? '?'}): ${why}`);
        });
      }
    }
  }
  if (exp.slots !== undefined && exp.slots !== spec.slots) {
    throw new InputError(`predictor bundle ${dir} was trained for ${trained}; expected ${exp.slots} slot${exp.slots === 1 ? '' : 's'}`);
  }
  if (exp.modeling !== undefined && exp.modeling !== bundle.modeling) {
    throw new InputError(`predictor bundle ${dir} is a ${bundle.modeling} predictor; expected ${exp.modeling}`);
  }
}
