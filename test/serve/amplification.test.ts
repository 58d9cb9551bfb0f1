import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/serve/index.js';
import { baseUrl, counterValues, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

test('an outputs list with duplicates or too many entries is a 400 before any work, counted as invalid', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer();
  const url = baseUrl(server);
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
    const output = zoo.models[0]!.manifest.outputs[0]!.name;
    const twice = await postJson(`${url}/v2/models/resnet50/infer`, { ...inferBody(inputs), outputs: [{ name: output }, { name: output }] });
    assert.equal(twice.status, 400);
    assert.match(String(twice.json.error), new RegExp(`output '${output}' is asked for more than once`));
    const many = await postJson(`${url}/v2/models/resnet50/infer`, { ...inferBody(inputs), outputs: Array.from({ length: 30_000 }, () => ({ name: output })) });
    assert.equal(many.status, 400);
    assert.match(String(many.json.error), /30000 outputs is too many \(at most 64/);
    const once = await postJson(`${url}/v2/models/resnet50/infer`, { ...inferBody(inputs), outputs: [{ name: output }] });
    assert.equal(once.status, 200);
    assert.equal((once.json.outputs as unknown[]).length, 1);
    const metrics = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    assert.equal(metrics.get('model="resnet50",outcome="invalid"'), 2);
    assert.equal(metrics.get('model="resnet50",outcome="ok"') ?? 0, 1);
    assert.equal(server.status().queue?.issued, 1, 'the rejected requests were never issued');
  } finally {
    await server.drain();
  }
});

test('an outcome is counted only once its response is encoded: an encoding that throws counts as failed, not ok', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer();
  const url = baseUrl(server);
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 1, 0);
    const request = { model: 'resnet50', parameters: {}, inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape, json: Array.from(i.data) })) };
    await assert.rejects(
      server.core.inferEncoded(request, undefined, () => {
        throw new RangeError('Invalid string length');
      }),
      (err: unknown) => err instanceof ProtocolError && err.kind === 'failed' && /encoding the response failed: Invalid string length/.test(err.message),
    );
    const metrics = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    assert.equal(metrics.get('model="resnet50",outcome="failed"'), 1);
    assert.equal(metrics.get('model="resnet50",outcome="ok"') ?? 0, 0);
    assert.equal(metrics.get('model="resnet50",outcome="late"') ?? 0, 0);
  } finally {
    await server.drain();
  }
});
