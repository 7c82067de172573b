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

/**
 * A cancellation point for work that runs on the calling thread: lets the event loop run (signal
 * handlers, abort events, a page's Cancel button), then throws AbortError if `signal` was aborted.
 * WebAssembly calls resolve their promises at once, so without it nothing else runs until the end.
 */
export async function yieldThenCheck(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  throwIfAborted(signal);
}

/**
 * `work`'s outcome, or an AbortError as soon as `signal` is aborted, for work that cannot stop on
 * its own (a page load, a call into a worker): the caller then closes what `work` runs on.
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
