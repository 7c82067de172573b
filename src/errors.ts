/**
 * An error caused by what the user supplied (a malformed arch string, a weights file of the wrong
 * shape, an option out of range). Its message names the problem and, where possible, the fix; the
 * CLI prints it as one line and exits with code 2.
 */
export class TenasInputError extends Error {
  override readonly name = 'TenasInputError';
}

/** Thrown when a search or scoring call is cancelled through its AbortSignal. */
export class AbortError extends Error {
  override readonly name = 'AbortError';
  constructor(message = 'the operation was aborted') {
    super(message);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}
