/**
 * The model manifest (`<models-dir>/<name>/manifest.json`, format `abacus.manifest` v1): what a model
 * is, where its ONNX file and weights are, and its operators (the paper's unit of scheduling) with their
 * boundary tensors, parameters and FLOPs. Written by `abacus zoo build` and `abacus split`, read by every
 * later stage. docs/ARCHITECTURE.md documents it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../common/errors.js';
import type { Provenance } from '../common/provenance.js';
import type { Dim, ElementType } from '../onnx/index.js';

export const MANIFEST_FORMAT = 'abacus.manifest';
export const MANIFEST_VERSION = 1;

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
  version: typeof MANIFEST_VERSION;
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
  if (m.version !== MANIFEST_VERSION) bad(`manifest version ${String(m.version)} is not supported (this abacus reads version ${MANIFEST_VERSION})`);
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
  return m as Manifest;
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
