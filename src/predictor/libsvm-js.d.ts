/**
 * Types for libsvm-js 0.2.1 (no types upstream). `module.exports` of the package is a Promise of the SVM
 * class; `out/wasm/libsvm.js` is the emscripten module behind it (the same instance, through the
 * require cache), whose exported C functions and heap views libsvm.ts uses directly.
 */
declare module 'libsvm-js' {
  namespace libsvm {
    interface SVMOptions {
      /** One of SVM_TYPES (strings '0'..'4'). */
      type?: string;
      /** One of KERNEL_TYPES (strings '0'..'4'). */
      kernel?: string;
      degree?: number;
      gamma?: number;
      coef0?: number;
      cost?: number;
      nu?: number;
      epsilon?: number;
      cacheSize?: number;
      tolerance?: number;
      shrinking?: boolean;
      probabilityEstimates?: boolean;
      quiet?: boolean;
    }
    interface SVM {
      /** Pointer to the native svm_model, or null. */
      model: number | null;
      train(samples: number[][], labels: number[]): void;
      predictOne(sample: number[]): number;
      predict(samples: number[][]): number[];
      serializeModel(): string;
      getSVIndices(): number[];
      free(): void;
    }
    interface SVMConstructor {
      new (options?: SVMOptions): SVM;
      /** Upstream loader: all-NaN predictions once the text exceeds ~1.3 M chars (stack overflow). */
      load(serializedModel: string): SVM;
      SVM_TYPES: { C_SVC: string; NU_SVC: string; ONE_CLASS: string; EPSILON_SVR: string; NU_SVR: string };
      KERNEL_TYPES: { LINEAR: string; POLYNOMIAL: string; RBF: string; SIGMOID: string; PRECOMPUTED: string };
    }
  }
  const svmPromise: Promise<libsvm.SVMConstructor>;
  export = svmPromise;
}

declare module 'libsvm-js/out/wasm/libsvm.js' {
  namespace emscripten {
    interface LibsvmModule {
      _malloc(bytes: number): number;
      _free(ptr: number): void;
      /** svm_model* from a NUL-terminated model text at `ptr` (written to MEMFS, read by svm_load_model). */
      _deserialize_model(ptr: number): number;
      /** Prediction for `size` doubles at `dataPtr`. */
      _libsvm_predict_one(model: number, dataPtr: number, size: number): number;
      _svm_free_model(model: number): void;
      _svm_get_nr_sv(model: number): number;
      HEAPU8: Uint8Array;
      HEAPF64: Float64Array;
      print: (text: string) => void;
      printErr: (text: string) => void;
      load(): Promise<void>;
    }
  }
  const mod: emscripten.LibsvmModule;
  export = mod;
}
