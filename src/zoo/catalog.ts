/**
 * The paper's seven models: ids, names and operator counts as in the original (ids are part of the
 * predictor's feature encoding, so they never change). Models a user brings with `abacus split` get ids
 * after these seven (see `resolveModelRef`).
 */
import { InputError } from '../common/errors.js';

export type ZooModelName = 'resnet50' | 'resnet101' | 'resnet152' | 'inception_v3' | 'vgg16' | 'vgg19' | 'bert';

export interface ZooEntry {
  id: number;
  name: ZooModelName;
  operatorCount: number;
  /** Parameter count of the reference definition (torchvision / BERT-base encoder) at full scale. */
  params: number;
  /** Uses a sequence length (BERT). */
  hasSeq: boolean;
}

export const ZOO: readonly ZooEntry[] = [
  { id: 0, name: 'resnet50', operatorCount: 18, params: 25_557_032, hasSeq: false },
  { id: 1, name: 'resnet101', operatorCount: 35, params: 44_549_160, hasSeq: false },
  { id: 2, name: 'resnet152', operatorCount: 52, params: 60_192_808, hasSeq: false },
  { id: 3, name: 'inception_v3', operatorCount: 14, params: 23_834_568, hasSeq: false },
  { id: 4, name: 'vgg16', operatorCount: 19, params: 138_357_544, hasSeq: false },
  { id: 5, name: 'vgg19', operatorCount: 22, params: 143_667_240, hasSeq: false },
  { id: 6, name: 'bert', operatorCount: 12, params: 85_054_464, hasSeq: true },
];

export const ZOO_NAMES: readonly ZooModelName[] = ZOO.map((m) => m.name);

/** Batch sizes and BERT sequence lengths of the paper's final experiments. */
export const DEFAULT_BATCH_SIZES: readonly number[] = [4, 8, 16, 32];
export const DEFAULT_SEQ_LENS: readonly number[] = [8, 16, 32, 64];

export function isZooName(name: string): name is ZooModelName {
  return (ZOO_NAMES as readonly string[]).includes(name);
}

/** Look a zoo model up by id ("3") or name ("inception_v3"); throws an InputError naming the bad value. */
export function zooEntry(ref: string | number): ZooEntry {
  const text = String(ref).trim();
  const byId = /^\d+$/.test(text) ? ZOO.find((m) => m.id === Number(text)) : undefined;
  const entry = byId ?? ZOO.find((m) => m.name === text.toLowerCase());
  if (!entry) throw new InputError(`unknown model '${text}': expected a zoo id 0-${ZOO.length - 1} or one of ${ZOO_NAMES.join(', ')}`);
  return entry;
}

/** Parse a `--comb`/`--models` list ("0 1", "0,1", "resnet50,bert") into zoo entries, in the given order. */
export function parseModelList(values: readonly string[]): ZooEntry[] {
  const parts = values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v.length > 0);
  if (parts.length === 0) throw new InputError('empty model list');
  return parts.map((p) => zooEntry(p));
}
