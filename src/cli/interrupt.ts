/** Exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_CANCELLED = 130;

/**
 * Turns Ctrl-C into `controller.abort()` while a long command runs: the work stops at its next
 * cancellation point and the command cleans up (workers, browsers, temporary files) before it
 * exits 130. A second Ctrl-C exits at once. Returns the function that removes the handler, which
 * restores Node's default (kill the process).
 */
export function abortOnInterrupt(controller: AbortController): () => void {
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(EXIT_CANCELLED);
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  return () => process.off('SIGINT', onInterrupt);
}

/** Whether `error` is the cancellation that `signal` asked for. */
export function isCancellation(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error as Error | undefined)?.name === 'AbortError';
}
