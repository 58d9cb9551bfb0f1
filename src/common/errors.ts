/**
 * Errors that reach the user. An `InputError` is bad input (a file, a flag, a request): the CLI prints its
 * one-line message and exits with code 2. Anything else is a bug or an environment failure: exit code 1.
 */
export class InputError extends Error {
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** An execution provider or other capability that is not installed here; says how to install it. */
export class UnavailableError extends Error {
  readonly exitCode = 3;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnavailableError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Exit code for an error thrown out of a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof InputError || err instanceof UnavailableError) return err.exitCode;
  if (err !== null && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    const code = (err as { code: string }).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') return 2;
    if (code.startsWith('commander.')) return 2;
  }
  return 1;
}
