import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceService } from '../../src/serve/index.js';
import { baseUrl, getJson, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

test("a request beyond its model's manifest limits (batch, sequence length) is 400 / INVALID_ARGUMENT before any work", async () => {
  const zoo = await tinyZoo();
  const models = zoo.models.map((m) => ({ ...m, manifest: { ...m.manifest, limits: { ...m.manifest.limits, maxBatch: 2, ...(m.manifest.limits.maxSeq !== null ? { maxSeq: 16 } : {}) } } }));
  const server = await startTestServer({ models, grpc: { host: '127.0.0.1', port: 0 } });
  const url = baseUrl(server);
  const client = new (loadInferenceService())(`127.0.0.1:${server.grpcAddress!.port}`, grpc.credentials.createInsecure());
  const resnet = zoo.models[0]!.manifest;
  const bert = zoo.models[1]!.manifest;
  try {
    const meta = await getJson(`${url}/v2/models/bert`);
    assert.deepEqual((meta.json.abacus as Record<string, unknown>).limits, { max_batch: 2, max_seq: 16 });
    const wide = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(seededInputs(resnet, 3, 0)));
    assert.equal(wide.status, 400);
    assert.match(String(wide.json.error), /batch 3 is above model 'resnet50''s maximum batch of 2/);
    const long = await postJson(`${url}/v2/models/bert/infer`, inferBody(seededInputs(bert, 1, 32)));
    assert.equal(long.status, 400);
    assert.match(String(long.json.error), /sequence length 32 is above model 'bert''s maximum of 16/);
    assert.equal((await postJson(`${url}/v2/models/bert/infer`, inferBody(seededInputs(bert, 2, 16)))).status, 200);
    const inputs = seededInputs(bert, 1, 32);
    const err = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = (client as unknown as Record<string, (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void>).ModelInfer!;
      call.call(client, {
        model_name: 'bert',
        inputs: inputs.map((i) => ({ name: i.name, datatype: 'FP32', shape: i.shape })),
        raw_input_contents: inputs.map((i) => Buffer.from(i.data.buffer, i.data.byteOffset, i.data.byteLength)),
      }, (e) => resolve(e));
    });
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(String(err?.details), /maximum of 16/);
    assert.equal(server.status().queue?.issued, 1, 'only the request within the limits was issued');
  } finally {
    client.close();
    await server.drain();
  }
});
