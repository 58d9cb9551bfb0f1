/** Shared fixtures of the online-serving tests: tiny zoo models, servers on 127.0.0.1, HTTP helpers. */
import { join } from 'node:path';
import { ensureZooModel } from '../../src/zoo/build.js';
import { manifestFeeds } from '../../src/zoo/verify.js';
import type { Manifest } from '../../src/zoo/manifest.js';
import { OnlineServer, type OnlineServerOptions } from '../../src/serve/index.js';
import { tempDir } from '../helpers/tiny-model.js';

export interface TinyZoo {
  modelsDir: string;
  models: { manifest: Manifest; dir: string }[];
}

const built = new Map<string, Promise<TinyZoo>>();

/** Tiny zoo models (built once per test process into a temp models folder). */
export function tinyZoo(names: readonly string[] = ['resnet50', 'bert']): Promise<TinyZoo> {
  const key = names.join(',');
  let p = built.get(key);
  if (!p) {
    p = (async () => {
      const modelsDir = tempDir('abacus-serve-test-');
      const models = [];
      for (const n of names) models.push({ manifest: await ensureZooModel(n, modelsDir, 'tiny'), dir: join(modelsDir, n) });
      return { modelsDir, models };
    })();
    built.set(key, p);
  }
  return p;
}

/** An online server on 127.0.0.1 (any free port) over the tiny models, fcfs by default. */
export async function startTestServer(overrides: Partial<OnlineServerOptions> = {}): Promise<OnlineServer> {
  const zoo = await tinyZoo();
  return OnlineServer.start({
    models: zoo.models,
    policy: 'fcfs',
    latencyModel: null,
    qos: 5000,
    ways: 2,
    thldMs: 1,
    abandon: false,
    ep: 'cpu',
    intraOpThreads: 1,
    seed: 0,
    batchSizes: [1, 2],
    seqLens: [8],
    listen: { host: '127.0.0.1', port: 0 },
    onEvent: () => undefined,
    ...overrides,
  });
}

export function baseUrl(server: OnlineServer): string {
  return `http://127.0.0.1:${server.httpAddress.port}`;
}

/** The model's seeded prepared inputs (what the executor runs a query on when it brings none). */
export function seededInputs(manifest: Manifest, batch: number, seq: number, seed = 0): { name: string; shape: number[]; data: Float32Array }[] {
  const dims: Record<string, number> = { ...manifest.reference, batch };
  if (seq > 0) dims.seq = seq;
  const feeds = manifestFeeds(manifest, dims, seed);
  return manifest.inputs.map((i) => ({ name: i.name, shape: [...(feeds[i.name]!.dims as number[])], data: Float32Array.from(feeds[i.name]!.data as Float32Array) }));
}

export interface Reply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

export async function getJson(url: string): Promise<Reply> {
  const r = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return { status: r.status, headers: r.headers, json: (await r.json()) as Record<string, unknown> };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, signal: AbortSignal.timeout(20_000) });
  return { status: r.status, headers: r.headers, json: (await r.json()) as Record<string, unknown> };
}

/** A JSON inference request body. */
export function inferBody(inputs: { name: string; shape: number[]; data: Float32Array }[], parameters: Record<string, unknown> = {}): Record<string, unknown> {
  return { parameters, inputs: inputs.map((i) => ({ name: i.name, shape: i.shape, datatype: 'FP32', data: Array.from(i.data) })) };
}

/** A binary-data inference request: JSON header, then the inputs' bytes; outputs asked for as binary. */
export function binaryInferBody(inputs: { name: string; shape: number[]; data: Float32Array }[], outputs: string[], parameters: Record<string, unknown> = {}): { body: Buffer; headerLength: number } {
  const head = Buffer.from(JSON.stringify({
    parameters,
    inputs: inputs.map((i) => ({ name: i.name, shape: i.shape, datatype: 'FP32', parameters: { binary_data_size: i.data.byteLength } })),
    outputs: outputs.map((name) => ({ name, parameters: { binary_data: true } })),
  }));
  return { body: Buffer.concat([head, ...inputs.map((i) => Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength))]), headerLength: head.length };
}

/** Counter values of a metric by label set, from the Prometheus text. */
export function counterValues(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}
