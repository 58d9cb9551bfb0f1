/**
 * JSON request bodies parsed off the event loop: a large body's `JSON.parse` (hundreds of ms for tens of
 * MB of JSON tensors) would stall every other request and the serving loop, which share the thread. One
 * worker thread parses, and flattens each input's `data` into a Float64Array (transferred back, not
 * copied) when it holds only numbers nested no deeper than the input's rank; anything else comes back as
 * parsed, for the main thread's checks to name the problem. The worker is plain JavaScript (eval), so it
 * runs the same from the sources and from dist/.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
function flatten(data, maxDepth) {
  const out = [];
  const stack = [{ items: data, index: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.index >= top.items.length) { stack.pop(); continue; }
    const item = top.items[top.index++];
    if (typeof item === 'number') out.push(item);
    else if (Array.isArray(item) && stack.length < maxDepth) stack.push({ items: item, index: 0 });
    else return null;
  }
  return Float64Array.from(out);
}
parentPort.on('message', ({ id, bytes }) => {
  let value;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
    return;
  }
  const transfer = [];
  if (value !== null && typeof value === 'object' && Array.isArray(value.inputs)) {
    for (const input of value.inputs) {
      if (input === null || typeof input !== 'object' || !Array.isArray(input.data) || !Array.isArray(input.shape)) continue;
      const flat = flatten(input.data, input.shape.length);
      if (flat !== null) { input.data = flat; transfer.push(flat.buffer); }
    }
  }
  parentPort.postMessage({ id, value }, transfer);
});
`;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** Parse JSON bytes on a worker thread (started on first use, restarted if it dies). */
export class OffLoopJsonParser {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  parse(bytes: Uint8Array): Promise<unknown> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, bytes });
    });
  }

  /** Stop the worker (pending parses fail). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failAll(new Error('the JSON parser was closed'));
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number; value?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new SyntaxError(m.error));
      else p.resolve(m.value);
    });
    const died = (why: string): void => {
      if (this.worker === w) this.worker = null;
      this.failAll(new Error(`the JSON parser thread ${why}`));
    };
    w.on('error', (err) => died(`failed: ${err.message}`));
    w.on('exit', (code) => died(`exited with code ${code}`));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
