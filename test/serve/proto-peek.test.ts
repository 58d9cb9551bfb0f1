// peekInferRequestHead reads model_name and model_version from a serialized ModelInferRequest without
// decoding it: the same values as the full decoder, on messages from the official proto's serializer,
// merged messages (the last value wins) and unknown fields; a top level that is not wire format is an
// error naming the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/common/rng.js';
import { loadInferenceService } from '../../src/serve/index.js';
import { WireFormatError, peekInferRequestHead } from '../../src/serve/proto-peek.js';

const method = loadInferenceService().service.ModelInfer!;
const serialize = method.requestSerialize as (value: unknown) => Buffer;
const decode = method.requestDeserialize as (bytes: Buffer) => { model_name: string; model_version: string };

function randomRequest(rng: Rng): Record<string, unknown> {
  const word = (n: number): string => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyzé_-0123456789'[rng.int(0, 39)]).join('');
  const inputs = Array.from({ length: rng.int(0, 4) }, () => ({ name: word(rng.int(1, 12)), datatype: 'FP32', shape: [1, rng.int(1, 9)], parameters: { binary_data_size: { int64_param: rng.int(0, 1000) } } }));
  return {
    ...(rng.int(0, 4) > 0 ? { model_name: word(rng.int(0, 40)) } : {}),
    ...(rng.int(0, 2) > 0 ? { model_version: String(rng.int(0, 100)) } : {}),
    id: word(rng.int(0, 8)),
    parameters: { qos_ms: { double_param: rng.int(1, 10_000) }, note: { string_param: word(5) } },
    inputs,
    outputs: [{ name: word(4) }],
    raw_input_contents: inputs.map(() => Buffer.from(Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 256)))),
  };
}

test('the head read from the wire format is what the full decoder reads, also of merged messages and with unknown fields', () => {
  const rng = new Rng(19);
  const unknown = [
    Buffer.from([0x98, 0x06, 0x96, 0x01]), // field 99 varint 150
    Buffer.from([0xa5, 0x06, 1, 2, 3, 4]), // field 100 fixed32
    Buffer.from([0xa9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]), // field 101 fixed64
    Buffer.from([0xb3, 0x06, 0x08, 0x01, 0x0a, 0x01, 0x78, 0xb4, 0x06]), // group 102 holding a varint and a string
  ];
  for (let i = 0; i < 200; i++) {
    const parts = [serialize(randomRequest(rng))];
    if (i % 3 === 0) parts.push(serialize(randomRequest(rng))); // a second message merged in: its fields win
    if (i % 4 === 0) parts.splice(rng.int(0, parts.length + 1), 0, unknown[i % unknown.length]!);
    const bytes = Buffer.concat(parts);
    const full = decode(bytes);
    assert.deepEqual(peekInferRequestHead(bytes), { modelName: full.model_name, modelVersion: full.model_version }, bytes.toString('hex'));
  }
  assert.deepEqual(peekInferRequestHead(Buffer.alloc(0)), { modelName: '', modelVersion: '' }, 'an empty message names no model');
});

test('a top level that is not wire format is an error naming the problem', () => {
  const cases: [string, RegExp][] = [
    ['0a', /model_name's length at byte 1 is cut off/],
    ['0aff', /model_name's length at byte 1 is cut off/],
    ['0a05616263', /model_name of 5 bytes at byte 2 runs past the end of the message \(5 bytes\)/],
    ['08', /field 1 \(model_name\) has wire type 0, not a length-delimited string/],
    ['0f', /field 1 has wire type 7, which does not exist/],
    ['3e', /field 7 has wire type 6, which does not exist/],
    ['0200', /names field 0/],
    ['2aff', /field 5's length at byte 1 is cut off/],
    ['2d0102', /field 5's fixed32 of 4 bytes at byte 1 runs past the end/],
    ['ffffffffffffffffffff01', /a tag at byte 0 is longer than 10 bytes/],
    ['b306', /a tag at byte 2 is cut off/],
    ['b306bc06', /group 102 is ended by an end-group tag of field 103/],
    ['b406', /an end-group tag of field 102 before byte 2 ends no group/],
  ];
  for (const [hex, message] of cases) {
    assert.throws(() => peekInferRequestHead(Buffer.from(hex, 'hex')), (err: unknown) => err instanceof WireFormatError && message.test(err.message), hex);
  }
  assert.throws(() => peekInferRequestHead(Buffer.from('b306'.repeat(66), 'hex')), /groups nest deeper than 64/);
});
