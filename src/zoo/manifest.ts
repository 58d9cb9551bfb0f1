/**
 * The model manifest (`<models-dir>/<name>/manifest.json`, format `abacus.manifest` v2): what a model
 * is, where its ONNX file and weights are, its operators (the paper's unit of scheduling) with their
 * boundary tensors, parameters and FLOPs, and the largest batch and sequence length it may be run at
 * (`limits`; v2). A v1 manifest is still read: its limits are the defaults below. Written by `abacus zoo build` and `abacus split`, read by every
 * later stage. docs/ARCHITECTURE.md documents it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import type { Provenance } from '../common/provenance.js';
import type { Dim, ElementType } from '../onnx/index.js';

export const MANIFEST_FORMAT = 'abacus.manifest';
/** The version written; every version in `MANIFEST_VERSIONS_READ` is read. */
export const MANIFEST_VERSION = 2;
export const MANIFEST_VERSIONS_READ: readonly number[] = [1, 2];

/** Limits of a manifest that states none (v1): the paper's largest batch (32) twice, and BERT-base's 512 positions. */
export const DEFAULT_MAX_BATCH = 64;
export const DEFAULT_MAX_SEQ = 512;

/** The largest request a model may be run at; a server answers 400 beyond (the work of a query is bounded). */
export interface ManifestLimits {
  maxBatch: number;
  /** Largest sequence length; null for a model without one. */
  maxSeq: number | null;
}

export interface ManifestTensor {
  name: string;
  dtype: ElementType;
  shape: Dim[];
  /** Inputs only: `activation` (the first operator's input) or `side` (readable by every operator). */
  role?: 'activation' | 'side';
}

export interface ManifestOperator {
  index: number;
  name: string;
  kind: string;
  /** Boundary tensor read (the previous operator's output; the activation input for operator 0). */
  input: string;
  output: string;
  outputShape: Dim[];
  /** Side inputs (graph inputs other than the activation) this operator reads. */
  sideInputs: string[];
  params: number;
  /** FLOPs at the manifest's reference shape. */
  flops: number;
  /** [first, last) indices into the graph's node list. Nodes outside every range are constants. */
  nodes: [number, number];
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  /** 2 when written; a v1 manifest read from disk keeps its 1 (and gets default `limits`). */
  version: 1 | 2;
  name: string;
  id: number;
  source: 'zoo' | 'split';
  scale: 'full' | 'tiny' | null;
  dtype: 'fp32' | 'fp16';
  seed: number | null;
  params: number;
  model: { file: string; sha256: string; externalData: string | null; externalDataSha256: string | null };
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
  /** Values of the symbolic dims at which FLOPs are counted (and the defaults for a probe run). */
  reference: Record<string, number>;
  operators: ManifestOperator[];
  /** Always present once read (derived for v1 manifests). */
  limits: ManifestLimits;
  provenance: Provenance;
}

export function manifestPath(modelDir: string): string {
  return join(modelDir, 'manifest.json');
}

/** Read and validate a manifest; every problem is an InputError naming the file. */
export function readManifest(modelDir: string): Manifest {
  const path = manifestPath(modelDir);
  if (!existsSync(path)) throw new InputError(`${path}: no manifest (build the model with 'abacus zoo build' or 'abacus split')`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return validateManifest(value, path);
}

export function validateManifest(value: unknown, path: string): Manifest {
  const bad = (what: string): never => {
    throw new InputError(`${path}: ${what}`);
  };
  if (typeof value !== 'object' || value === null) bad('not a manifest object');
  const m = value as Partial<Manifest>;
  if (m.format !== MANIFEST_FORMAT) bad(`format is '${String(m.format)}', expected '${MANIFEST_FORMAT}'`);
  if (!MANIFEST_VERSIONS_READ.includes(m.version as number)) bad(`manifest version ${String(m.version)} is not supported (this abacus reads versions ${MANIFEST_VERSIONS_READ.join(', ')})`);
  if (typeof m.name !== 'string' || !m.name) bad('no model name');
  if (typeof m.id !== 'number' || !Number.isInteger(m.id) || m.id < 0) bad('no model id');
  if (!m.model || typeof m.model.file !== 'string') bad('no model file');
  if (!Array.isArray(m.inputs) || m.inputs.filter((i) => i.role === 'activation').length !== 1) bad('inputs must name exactly one activation input');
  if (!Array.isArray(m.operators) || m.operators.length === 0) bad('no operators');
  const ops = m.operators as ManifestOperator[];
  ops.forEach((op, i) => {
    if (op.index !== i) bad(`operator ${i} has index ${op.index}`);
    if (typeof op.input !== 'string' || typeof op.output !== 'string') bad(`operator ${i} has no boundary tensors`);
    if (i > 0 && op.input !== ops[i - 1]?.output) bad(`operator ${i} reads '${op.input}' but operator ${i - 1} writes '${ops[i - 1]?.output}'`);
    if (!Array.isArray(op.nodes) || op.nodes.length !== 2 || op.nodes[0] >= op.nodes[1]) bad(`operator ${i} has a bad node range`);
  });
  const hasSeq = (m.inputs as ManifestTensor[]).some((t) => Array.isArray(t.shape) && t.shape.includes('seq'));
  if (m.version === 1) return { ...(m as Manifest), limits: defaultLimits(hasSeq) };
  const limits = m.limits as Partial<ManifestLimits> | undefined;
  const positive = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
  if (!limits || !positive(limits.maxBatch)) bad('limits.maxBatch must be an integer >= 1 (version 2 manifests state their largest batch)');
  if (hasSeq ? !positive(limits?.maxSeq) : limits?.maxSeq !== null) bad(hasSeq ? 'limits.maxSeq must be an integer >= 1 (the model takes a sequence length)' : 'limits.maxSeq must be null (the model takes no sequence length)');
  return m as Manifest;
}

/** The limits of a model that states none. */
export function defaultLimits(hasSeq: boolean): ManifestLimits {
  return { maxBatch: DEFAULT_MAX_BATCH, maxSeq: hasSeq ? DEFAULT_MAX_SEQ : null };
}

export function activationInput(m: Manifest): ManifestTensor {
  return m.inputs.find((i) => i.role === 'activation') as ManifestTensor;
}

export function sideInputs(m: Manifest): ManifestTensor[] {
  return m.inputs.filter((i) => i.role === 'side');
}

/** Whether the model takes a sequence length (an input with a `seq` dimension, as BERT's). */
export function hasSeqInput(m: Manifest): boolean {
  return m.inputs.some((i) => i.shape.includes('seq'));
}

/**
 * The model's work per operator: GFLOPs for one sample (batch 1) at `referenceSeq`, the sequence length
 * the manifest counted its FLOPs at (0 for a model without one). What profiles record and what a
 * predictor's feature encodings 2 and 3 read (src/predictor/features.ts).
 */
export function operatorWork(m: Manifest): { operatorGflops: number[]; referenceSeq: number } {
  const refBatch = m.reference.batch ?? 1;
  return { operatorGflops: m.operators.map((o) => o.flops / refBatch / 1e9), referenceSeq: hasSeqInput(m) ? (m.reference.seq ?? 0) : 0 };
}

/** Concrete dims for a symbolic shape given values for its symbols (`batch`, `seq`, ...). */
export function concreteDims(shape: readonly Dim[], values: Readonly<Record<string, number>>, label: string): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const v = values[d];
    if (v === undefined) throw new InputError(`${label}: no value for dimension '${d}'`);
    return v;
  });
}
