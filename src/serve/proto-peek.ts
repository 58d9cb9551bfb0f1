/**
 * What admission needs of a gRPC `ModelInferRequest` before the message is decoded: its `model_name`
 * (field 1) and `model_version` (field 2), read from the protobuf wire format's top level. Every other
 * field is skipped by its length, without being looked into: no tensor is copied, no object is made
 * per input. The last occurrence of a field wins, as in any protobuf decoder. A top level that is not
 * valid wire format (a truncated varint or length, a wire type that does not exist, a length past the
 * end, a field 1 or 2 that is not length-delimited) is an error naming the problem; what lies inside
 * the skipped fields is the full decoder's to judge, after admission.
 */

/** `ModelInferRequest`'s field numbers (KServe's and Triton's protos agree). */
const MODEL_NAME_FIELD = 1;
const MODEL_VERSION_FIELD = 2;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

const MAX_FIELD_NUMBER = 2 ** 29 - 1;

/** Groups nest at most this deep (protobufjs has no limit; a message of ours has no groups at all). */
const MAX_GROUP_DEPTH = 64;

export class WireFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

export interface InferRequestHead {
  modelName: string;
  modelVersion: string;
}

class Cursor {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  /** A varint of at most 10 bytes, as a number (exact below 2^53; lengths and tags are far below). */
  varint(what: string): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) throw new WireFormatError(`${what} at byte ${start} is cut off by the end of the message`);
      const b = this.bytes[this.pos++] as number;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new WireFormatError(`${what} at byte ${start} is longer than 10 bytes`);
  }

  skip(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) throw new WireFormatError(`${what} of ${n} bytes at byte ${this.pos} runs past the end of the message (${this.bytes.length} bytes)`);
    this.pos += n;
  }
}

/** Skip one field's value of this wire type (the tag already read). */
function skipValue(c: Cursor, field: number, wire: number, depth: number): void {
  switch (wire) {
    case WIRE_VARINT:
      c.varint(`field ${field}'s varint`);
      return;
    case WIRE_FIXED64:
      c.skip(8, `field ${field}'s fixed64`);
      return;
    case WIRE_LEN:
      c.skip(c.varint(`field ${field}'s length`), `field ${field}`);
      return;
    case WIRE_FIXED32:
      c.skip(4, `field ${field}'s fixed32`);
      return;
    case WIRE_START_GROUP: {
      if (depth >= MAX_GROUP_DEPTH) throw new WireFormatError(`groups nest deeper than ${MAX_GROUP_DEPTH}`);
      for (;;) {
        const tag = c.varint('a tag');
        const inner = Math.floor(tag / 8);
        const innerWire = tag % 8;
        if (innerWire === WIRE_END_GROUP) {
          if (inner !== field) throw new WireFormatError(`group ${field} is ended by an end-group tag of field ${inner}`);
          return;
        }
        checkTag(inner, innerWire, c.pos);
        skipValue(c, inner, innerWire, depth + 1);
      }
    }
    default:
      throw new WireFormatError(`field ${field} has wire type ${wire}, which does not exist`);
  }
}

function checkTag(field: number, wire: number, pos: number): void {
  if (field === 0 || field > MAX_FIELD_NUMBER) throw new WireFormatError(`a tag before byte ${pos} names field ${field} (field numbers are 1 to ${MAX_FIELD_NUMBER})`);
  if (wire === WIRE_END_GROUP) throw new WireFormatError(`an end-group tag of field ${field} before byte ${pos} ends no group`);
  if (wire > WIRE_FIXED32) throw new WireFormatError(`field ${field} has wire type ${wire}, which does not exist`);
}

const utf8 = new TextDecoder('utf-8');

/** `model_name` and `model_version` of a serialized ModelInferRequest (WireFormatError when its top level is not valid wire format). */
export function peekInferRequestHead(bytes: Uint8Array): InferRequestHead {
  const c = new Cursor(bytes);
  let modelName: Uint8Array | null = null;
  let modelVersion: Uint8Array | null = null;
  while (c.pos < bytes.length) {
    const tag = c.varint('a tag');
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    checkTag(field, wire, c.pos);
    if (field === MODEL_NAME_FIELD || field === MODEL_VERSION_FIELD) {
      const name = field === MODEL_NAME_FIELD ? 'model_name' : 'model_version';
      if (wire !== WIRE_LEN) throw new WireFormatError(`field ${field} (${name}) has wire type ${wire}, not a length-delimited string`);
      const length = c.varint(`${name}'s length`);
      const start = c.pos;
      c.skip(length, name);
      const value = bytes.subarray(start, start + length);
      if (field === MODEL_NAME_FIELD) modelName = value;
      else modelVersion = value;
      continue;
    }
    skipValue(c, field, wire, 0);
  }
  return { modelName: modelName ? utf8.decode(modelName) : '', modelVersion: modelVersion ? utf8.decode(modelVersion) : '' };
}
