/**
 * A quiet, fixed wrapper over libsvm-js 0.2.1 (loaded lazily; only the RBF SVR uses it):
 * - its module.exports is a Promise of the SVM class; `loadLibsvm()` awaits it once;
 * - its emscripten glue prints "wasm streaming compile failed … falling back to ArrayBuffer instantiation"
 *   through Module.printErr when Node's fetch rejects a file path (harmless): those lines are dropped, and
 *   every other line the module prints is kept in `messages()` instead of reaching stdout/stderr;
 * - the glue adds a process-wide `unhandledRejection` listener that calls process.exit(1): removed;
 * - LOAD BUG: `SVM.load(text)` passes the text through emscripten's `ccall` 'string' conversion, which
 *   stack-allocates 4 bytes per char on a 5 MiB stack (TOTAL_STACK = 5242880): beyond ~1.3 M chars it
 *   overruns the stack and the model predicts NaN (upstream mljs/libsvm#16). `deserializeModel` instead
 *   copies the text to the heap with `_malloc` and calls `_deserialize_model` on the pointer (which writes
 *   it to a MEMFS file and reads it with svm_load_model), then frees the copy.
 */
import { createRequire } from 'node:module';
import type libsvmTypes from 'libsvm-js';
import type emscriptenModule from 'libsvm-js/out/wasm/libsvm.js';
import { UnavailableError, errorMessage } from '../common/errors.js';

type SvmConstructor = Awaited<typeof libsvmTypes>;
type LibsvmModule = typeof emscriptenModule;

export interface Libsvm {
  SVM: SvmConstructor;
  module: LibsvmModule;
  /** Lines libsvm printed (other than the harmless streaming-compile notice). */
  messages(): string[];
  /** A native model from its text; free it with `freeModel`. Works for texts of any size. */
  deserializeModel(text: string): number;
  freeModel(model: number): void;
  /** Support vectors of a native model. */
  supportVectorCount(model: number): number;
}

const HARMLESS = [/^wasm streaming compile failed/, /^falling back to ArrayBuffer instantiation/];

let loading: Promise<Libsvm> | null = null;

export function loadLibsvm(): Promise<Libsvm> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const messages: string[] = [];
    const before = process.listeners('unhandledRejection');
    let mod: LibsvmModule;
    let svmPromise: Promise<SvmConstructor>;
    try {
      mod = require('libsvm-js/out/wasm/libsvm.js') as LibsvmModule;
      // set before the (asynchronous) streaming compile fails
      mod.printErr = (text: string) => {
        if (!HARMLESS.some((re) => re.test(String(text)))) messages.push(String(text));
      };
      mod.print = (text: string) => {
        messages.push(String(text));
      };
      svmPromise = require('libsvm-js') as Promise<SvmConstructor>;
    } catch (err) {
      throw new UnavailableError(`libsvm-js could not be loaded (${errorMessage(err)}); reinstall dependencies with npm ci`);
    } finally {
      for (const l of process.listeners('unhandledRejection')) if (!before.includes(l)) process.removeListener('unhandledRejection', l);
    }
    const SVM = await svmPromise;
    const encoder = new TextEncoder();
    return {
      SVM,
      module: mod,
      messages: () => [...messages],
      deserializeModel(text: string): number {
        const bytes = encoder.encode(text);
        const ptr = mod._malloc(bytes.length + 1);
        if (!ptr) throw new RangeError(`libsvm: cannot allocate ${bytes.length + 1} bytes for a model text`);
        try {
          mod.HEAPU8.set(bytes, ptr);
          mod.HEAPU8[ptr + bytes.length] = 0;
          const model = mod._deserialize_model(ptr);
          if (!model) throw new RangeError('libsvm: the model text could not be parsed');
          return model;
        } finally {
          mod._free(ptr);
        }
      },
      freeModel(model: number): void {
        mod._svm_free_model(model);
      },
      supportVectorCount(model: number): number {
        return mod._svm_get_nr_sv(model);
      },
    };
  })();
  return loading;
}
