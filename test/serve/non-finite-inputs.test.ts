import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceService } from '../../src/serve/index.js';
import { firstNonFinite } from '../../src/serve/tensors.js';
import { baseUrl, binaryInferBody, counterValues, seededInputs, startTestServer, tinyZoo } from './helpers.js';

function modelInfer(client: grpc.Client, request: unknown): Promise<grpc.ServiceError | null> {
  const fn = (client as unknown as Record<string, (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void>).ModelInfer!;
  return new Promise((resolve) => fn.call(client, request, (err) => resolve(err)));
}

test('NaN and Infinity inputs are refused (400 / INVALID_ARGUMENT) naming the element; finite ones are served', async () => {
  assert.equal(firstNonFinite(Float32Array.from([0, 1, -2])), -1);
  assert.equal(firstNonFinite(Float32Array.from([0, Number.NEGATIVE_INFINITY])), 1);
  assert.equal(firstNonFinite(Uint16Array.from([0x3c00, 0x7e00])), 1, 'FP16 NaN bits');
  assert.equal(firstNonFinite(Uint16Array.from([0xfc00])), 0, 'FP16 -Infinity bits');
  const zoo = await tinyZoo();
  const server = await startTestServer({ grpc: { host: '127.0.0.1', port: 0 } });
  const url = baseUrl(server);
  const client = new (loadInferenceService())(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
    const poisoned = inputs.map((i) => ({ ...i, data: Float32Array.from(i.data, (v, k) => (k === 5 ? Number.NaN : v)) }));
    const { body, headerLength } = binaryInferBody(poisoned, ['output']);
    const r = await fetch(`${url}/v2/models/resnet50/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': String(headerLength) } });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /input 'input': element 5 is not a finite number/);
    const raw = await modelInfer(client, {
      model_name: 'resnet50',
      inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape })),
      raw_input_contents: inputs.map((i) => Buffer.from(Float32Array.from(i.data, (v, k) => (k === 9 ? Number.POSITIVE_INFINITY : v)).buffer)),
    });
    assert.equal(raw?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(String(raw?.details), /element 9 is not a finite number/);
    const contents = await modelInfer(client, {
      model_name: 'resnet50',
      inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape, contents: { fp32_contents: Array.from(i.data, (v, k) => (k === 2 ? Number.NaN : v)) } })),
    });
    assert.equal(contents?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(String(contents?.details), /element 2 is not a finite number/);
    const fine = binaryInferBody(inputs, ['output']);
    assert.equal((await fetch(`${url}/v2/models/resnet50/infer`, { method: 'POST', body: fine.body, headers: { 'inference-header-content-length': String(fine.headerLength) } })).status, 200);
    const metrics = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    assert.equal(metrics.get('model="resnet50",outcome="invalid"'), 3);
  } finally {
    client.close();
    await server.drain();
  }
});
