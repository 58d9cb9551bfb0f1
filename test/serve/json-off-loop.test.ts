import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OffLoopJsonParser, parseInferBody, parseInferBodyOffLoop, ProtocolError } from '../../src/serve/index.js';
import { baseUrl, inferBody, postJson, seededInputs, startTestServer, tinyZoo } from './helpers.js';

test('a large JSON body is parsed on the worker thread, with data flattened; a small one here; both give the same request', async () => {
  const body = Buffer.from(JSON.stringify({ id: 'r', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2, 2], data: [[[1, 2], [3, 4]]] }], outputs: [{ name: 'output' }] }));
  const calls: number[] = [];
  const real = new OffLoopJsonParser();
  const spy = { parse: (b: Uint8Array) => (calls.push(b.length), real.parse(b)) };
  try {
    const off = await parseInferBodyOffLoop('m', undefined, body, undefined, spy, 10);
    assert.deepEqual(calls, [body.length], 'parsed by the worker');
    assert.ok(off.inputs[0]!.json instanceof Float64Array);
    assert.deepEqual(Array.from(off.inputs[0]!.json as Float64Array), [1, 2, 3, 4]);
    const here = await parseInferBodyOffLoop('m', undefined, body, undefined, spy, body.length + 1);
    assert.equal(calls.length, 1, 'a small body is not sent to the worker');
    assert.deepEqual({ ...here, inputs: [] }, { ...off, inputs: [] });
    assert.deepEqual(parseInferBody('m', undefined, body, undefined).outputs, off.outputs);
    await assert.rejects(parseInferBodyOffLoop('m', undefined, Buffer.from('{"inputs": [1,'), undefined, spy, 1), (e: unknown) => e instanceof ProtocolError && e.kind === 'bad-request' && /malformed JSON in the request/.test(e.message));
    await assert.rejects(parseInferBodyOffLoop('m', undefined, Buffer.from('[1]'), undefined, spy, 1), /must be a JSON object/);
  } finally {
    await real.close();
  }
});

test('a server parsing every JSON body off the loop serves them as before and refuses bad data with the same errors', async () => {
  const zoo = await tinyZoo();
  const server = await startTestServer({ offLoopJsonBytes: 1 });
  const plain = await startTestServer();
  const url = baseUrl(server);
  try {
    const inputs = seededInputs(zoo.models[0]!.manifest, 2, 0);
    const a = await postJson(`${url}/v2/models/resnet50/infer`, inferBody(inputs));
    const b = await postJson(`${baseUrl(plain)}/v2/models/resnet50/infer`, inferBody(inputs));
    assert.equal(a.status, 200);
    assert.deepEqual((a.json.outputs as unknown[])[0], (b.json.outputs as unknown[])[0], 'the same output as parsing on the loop');
    const nested = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 32, 32], data: [[[[[0]]]]] }] };
    assert.match(String((await postJson(`${url}/v2/models/resnet50/infer`, nested)).json.error), /nested deeper than the tensor's rank/);
    const huge = JSON.stringify(inferBody(inputs)).replace(/"data":\[[-0-9.e]+/, '"data":[1e400');
    const inf = await postJson(`${url}/v2/models/resnet50/infer`, huge);
    assert.equal(inf.status, 400);
    assert.match(String(inf.json.error), /element 0 is not a finite number/);
    assert.equal((await postJson(`${url}/v2/models/resnet50/infer`, '{"inputs": [')).status, 400);
  } finally {
    await server.drain();
    await plain.drain();
  }
});
