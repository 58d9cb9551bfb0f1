/**
 * The part of the WebAssembly JavaScript API that this package uses (Node has it as a global; the
 * project's `lib` setting has no DOM, where TypeScript declares it).
 */
declare namespace WebAssembly {
  type Exports = Record<string, unknown>;
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    /** Grows by `deltaPages` 64 KiB pages (detaching the old `buffer`); returns the previous size in pages. */
    grow(deltaPages: number): number;
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Exports;
  }
  function validate(bytes: ArrayBufferView | ArrayBuffer): boolean;
}
