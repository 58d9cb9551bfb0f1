// An unknown model is a 404 / NOT_FOUND whatever else holds: before admission from the headers (a
// request to a served model would be refused with 429 there), and before its body is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupMember, LatencyModel } from '../../src/controller/index.js';
import { baseUrl, counterValues, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

test('with admission refusing every request from its headers, an unknown model is still 404 (counted as _unknown invalid), and a bad QoS header for it too', async () => {
  const zoo = await tinyZoo();
  const slow: LatencyModel = { predictMs: (groups: readonly (readonly GroupMember[])[]) => Float64Array.from(groups, () => 5_000) };
  const server = await startTestServer({ latencyModel: slow, qos: 1000 });
  const url = baseUrl(server);
  const body = JSON.stringify(inferBody(seededInputs(zoo.models[0]!.manifest, 1, 0)));
  try {
    assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, body, { 'abacus-qos-ms': '60000' })).status, 200);
    assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, body)).status, 429, 'a served model is refused from its headers');
    const unknown = await postJson(`${url}/v2/models/nope/infer`, body);
    assert.equal(unknown.status, 404);
    assert.match(String((unknown.json as { error?: unknown }).error), /unknown model 'nope'/);
    assert.equal((await postJson(`${url}/v2/models/nope/infer`, body, { 'abacus-qos-ms': 'soon' })).status, 404, 'the model before the header');
    assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, body, { 'abacus-qos-ms': 'soon' })).status, 400);
    const counts = counterValues(await (await fetch(`${url}/metrics`)).text(), 'abacus_requests_total');
    assert.equal(counts.get('model="_unknown",outcome="invalid"'), 2);
    assert.equal(counts.get('model="_unknown",outcome="rejected"'), 0);
    assert.equal(counts.get('model="resnet50",outcome="rejected"'), 1);
    assert.equal(counts.get('model="resnet50",outcome="invalid"'), 1);
  } finally {
    await server.drain();
  }
});
