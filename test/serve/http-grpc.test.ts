import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Executor } from '../../src/executor/index.js';
import { AnalyticLatencyModel } from '../../src/controller/index.js';
import { loadInferenceService, type OnlineServer } from '../../src/serve/index.js';
import { baseUrl, binaryInferBody, counterValues, getJson, inferBody, postJson, seededInputs, startTestServer, tinyZoo, type TinyZoo } from './helpers.js';

let zoo: TinyZoo;
let server: OnlineServer;
let url: string;
let reference: Map<string, { dims: number[]; data: number[] }>;

before(async () => {
  zoo = await tinyZoo();
  // the executor's own outputs on its seeded prepared inputs (batch 2; BERT at seq 8)
  const ex = new Executor();
  reference = new Map();
  try {
    for (const m of zoo.models) {
      await ex.addService({ name: m.manifest.name, modelDir: m.dir, intraOpThreads: 1, seed: 0 }, 2);
      const seq = m.manifest.name === 'bert' ? 8 : 0;
      const ops = m.manifest.operators.length;
      const r = await ex.runGroup([{ service: m.manifest.name, queryId: 'ref', start: 0, end: ops, batch: 2, seq, returnOutput: true }]);
      const out = r.members[0]!.output!;
      reference.set(m.manifest.name, { dims: out.dims, data: Array.from(out.data) });
    }
  } finally {
    await ex.shutdown();
  }
  server = await startTestServer({ policy: 'abacus', latencyModel: new AnalyticLatencyModel(), grpc: { host: '127.0.0.1', port: 0 }, qos: { resnet50: 4000, bert: 3000 } });
  url = baseUrl(server);
});

after(async () => {
  await server?.drain();
});

test('HTTP inference (JSON and binary tensors) returns exactly what the executor computes', async () => {
  for (const m of zoo.models) {
    const name = m.manifest.name;
    const seq = name === 'bert' ? 8 : 0;
    const inputs = seededInputs(m.manifest, 2, seq);
    const want = reference.get(name)!;
    const r = await postJson(`${url}/v2/models/${name}/infer`, { id: 'req-1', ...inferBody(inputs, { qos_ms: 2500 }) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.model_name, name);
    assert.equal(r.json.id, 'req-1');
    const out = (r.json.outputs as { name: string; datatype: string; shape: number[]; data: number[] }[])[0]!;
    assert.equal(out.name, m.manifest.outputs[0]!.name);
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.shape, want.dims);
    assert.deepEqual(Float32Array.from(out.data), Float32Array.from(want.data), `${name}: JSON output equals the executor's`);
    const params = r.json.parameters as Record<string, number | string>;
    assert.equal(params.status, 'ok');
    assert.equal(params.qos_ms, 2500);
    for (const k of ['queue_ms', 'compute_ms', 'total_ms']) assert.ok(typeof params[k] === 'number' && (params[k] as number) >= 0, k);
    assert.ok(Math.abs((params.queue_ms as number) + (params.compute_ms as number) - (params.total_ms as number)) < 0.01);
    assert.ok((params.groups as number) >= 1);
    // binary tensor data both ways
    const { body, headerLength } = binaryInferBody(inputs, [out.name]);
    const b = await fetch(`${url}/v2/models/${name}/infer`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) }, signal: AbortSignal.timeout(20_000) });
    assert.equal(b.status, 200);
    const bytes = Buffer.from(await b.arrayBuffer());
    const jsonLength = Number(b.headers.get('inference-header-content-length'));
    const head = JSON.parse(bytes.subarray(0, jsonLength).toString('utf8')) as { outputs: { shape: number[]; parameters: { binary_data_size: number } }[] };
    const size = head.outputs[0]!.parameters.binary_data_size;
    assert.equal(bytes.length, jsonLength + size);
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + jsonLength, bytes.byteOffset + jsonLength + size));
    assert.deepEqual(data, Float32Array.from(want.data), `${name}: binary output equals the executor's`);
  }
});

type Callback<T> = (err: grpc.ServiceError | null, value: T) => void;
function rpc<T>(client: grpc.Client, method: string, request: unknown): Promise<T> {
  const fn = (client as unknown as Record<string, (req: unknown, cb: Callback<T>) => void>)[method]!;
  return new Promise((resolve, reject) => fn.call(client, request, (err: grpc.ServiceError | null, value: T) => (err ? reject(err) : resolve(value))));
}

test('gRPC: ServerLive, ServerReady, ModelMetadata and ModelInfer (raw contents) agree with the executor; errors carry codes', async () => {
  const Service = loadInferenceService();
  const client = new Service(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  try {
    assert.deepEqual(await rpc(client, 'ServerLive', {}), { live: true });
    assert.deepEqual(await rpc(client, 'ServerReady', {}), { ready: true });
    const meta = await rpc<{ name: string; inputs: { name: string; datatype: string; shape: number[] }[] }>(client, 'ModelMetadata', { name: 'bert' });
    assert.equal(meta.name, 'bert');
    assert.deepEqual(meta.inputs.map((i) => [i.name, i.datatype, i.shape]), [['hidden', 'FP32', [-1, -1, 64]], ['mask', 'FP32', [-1, 1, 1, -1]]]);
    const m = zoo.models.find((x) => x.manifest.name === 'bert')!;
    const inputs = seededInputs(m.manifest, 2, 8);
    const res = await rpc<{ model_name: string; outputs: { name: string; shape: number[] }[]; raw_output_contents: Buffer[]; parameters: Record<string, { parameter_choice: string; string_param?: string; double_param?: number }> }>(client, 'ModelInfer', {
      model_name: 'bert',
      id: 'g1',
      parameters: { qos_ms: { double_param: 2000 } },
      inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape })),
      raw_input_contents: inputs.map((i) => Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength)),
    });
    assert.equal(res.model_name, 'bert');
    assert.deepEqual(res.outputs[0]!.shape, reference.get('bert')!.dims);
    const raw = res.raw_output_contents[0]!;
    assert.deepEqual(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), Float32Array.from(reference.get('bert')!.data));
    assert.equal(res.parameters.status!.string_param, 'ok');
    assert.equal(res.parameters.qos_ms!.double_param, 2000);
    // fp32_contents work too
    const r50 = zoo.models.find((x) => x.manifest.name === 'resnet50')!;
    const r50in = seededInputs(r50.manifest, 2, 0);
    const viaContents = await rpc<{ raw_output_contents: Buffer[] }>(client, 'ModelInfer', {
      model_name: 'resnet50', inputs: r50in.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape, contents: { fp32_contents: Array.from(i.data) } })),
    });
    const raw50 = viaContents.raw_output_contents[0]!;
    assert.deepEqual(new Float32Array(raw50.buffer.slice(raw50.byteOffset, raw50.byteOffset + raw50.byteLength)), Float32Array.from(reference.get('resnet50')!.data));
    await assert.rejects(rpc(client, 'ModelMetadata', { name: 'nope' }), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    await assert.rejects(
      rpc(client, 'ModelInfer', { model_name: 'resnet50', inputs: [{ name: 'input', datatype: 'FP16', shape: [1, 3, 32, 32] }], raw_input_contents: [Buffer.alloc(6144)] }),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /datatype must be FP32/.test(e.details),
    );
  } finally {
    client.close();
  }
});

test('metadata, health, repository index, status, and the error statuses', async () => {
  const v2 = await getJson(`${url}/v2`);
  assert.equal(v2.json.name, 'abacus');
  assert.ok((v2.json.extensions as string[]).includes('binary_tensor_data'));
  assert.equal((await getJson(`${url}/v2/health/live`)).status, 200);
  assert.equal((await getJson(`${url}/v2/health/ready`)).status, 200);
  assert.equal((await getJson(`${url}/v2/models/resnet50/ready`)).status, 200);
  const meta = await getJson(`${url}/v2/models/resnet50`);
  assert.equal(meta.status, 200);
  assert.deepEqual(meta.json.versions, ['1']);
  assert.deepEqual(meta.json.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 32, 32] }]);
  const abacus = meta.json.abacus as { id: number; qos_ms: number; operators: unknown[] };
  assert.equal(abacus.id, 0);
  assert.equal(abacus.qos_ms, 4000);
  assert.equal(abacus.operators.length, 18);
  assert.equal((await getJson(`${url}/v2/models/resnet50/versions/1`)).status, 200);
  assert.equal((await getJson(`${url}/v2/models/resnet50/versions/2`)).status, 404);
  const unknown = await getJson(`${url}/v2/models/nope`);
  assert.equal(unknown.status, 404);
  assert.match(String(unknown.json.error), /unknown model 'nope'/);
  assert.equal((await getJson(`${url}/v2/nothing/here`)).status, 404);
  assert.equal((await getJson(`${url}/v2/models/resnet50/infer`)).status, 405);
  const index = await postJson(`${url}/v2/repository/index`, {});
  assert.deepEqual(index.json, [{ name: 'resnet50', version: '1', state: 'READY' }, { name: 'bert', version: '1', state: 'READY' }]);
  const status = await getJson(`${url}/v2/abacus/status`);
  assert.equal(status.json.policy, 'abacus');
  assert.deepEqual(status.json.hosts, { resnet50: true, bert: true });
  const queue = status.json.queue as { perModel: Record<string, { backlogMs: number | null }> };
  assert.equal(typeof queue.perModel.resnet50!.backlogMs, 'number', 'with a latency model the backlog is predicted');
});

test('metrics move: requests by model and outcome, latency histograms, groups and prediction error', async () => {
  const read = async () => (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  const beforeText = await read();
  const m = zoo.models.find((x) => x.manifest.name === 'resnet50')!;
  const inputs = seededInputs(m.manifest, 1, 0);
  for (let i = 0; i < 3; i++) assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs))).status, 200);
  assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, '{"inputs": [')).status, 400);
  const afterText = await read();
  const okBefore = counterValues(beforeText, 'abacus_requests_total').get('model="resnet50",outcome="ok"') ?? 0;
  const requests = counterValues(afterText, 'abacus_requests_total');
  assert.equal(requests.get('model="resnet50",outcome="ok"'), okBefore + 3);
  assert.ok((requests.get('model="resnet50",outcome="invalid"') ?? 0) >= 1);
  const countOf = (text: string, name: string) => Number(/^(\S+) (\S+)$/m.exec(text.split('\n').filter((l) => l.startsWith(name)).join('\n'))?.[2] ?? 0);
  assert.ok(countOf(afterText, 'abacus_request_duration_seconds_count{model="resnet50"}') >= okBefore + 3);
  assert.ok(countOf(afterText, 'abacus_group_duration_seconds_count') > countOf(beforeText, 'abacus_group_duration_seconds_count'));
  assert.ok(countOf(afterText, 'abacus_group_prediction_error_ratio_count') > 0, 'groups with a prediction are compared with their measured time');
  assert.match(afterText, /abacus_group_prediction_error_ratio_bucket\{le="0.1"\}/);
  assert.match(afterText, /abacus_queue_depth\{model="resnet50"\} 0/);
});
