import { AbortError } from '../../errors.js';
import { errorMessage } from './dom.js';
import { showNotice } from './notices.js';

export interface FailedRunPage {
  setState(state: 'cancelled' | 'error'): void;
  readonly status: HTMLElement;
  readonly notices: HTMLElement;
  /** Keeps the message where tests and callers read it (the page's `window.__TENAS_…__` handle). */
  recordError(message: string): void;
}

/** Ends a run that threw: cancelled (by its signal) or failed, with the message shown as an alert. */
export function endFailedRun(error: unknown, aborted: boolean, run: 'search' | 'evaluation', page: FailedRunPage): void {
  if (error instanceof AbortError || aborted) {
    page.setState('cancelled');
    page.status.textContent = `${run[0].toUpperCase()}${run.slice(1)} cancelled.`;
    return;
  }
  const message = errorMessage(error);
  page.recordError(message);
  page.setState('error');
  page.status.textContent = `The ${run} failed.`;
  showNotice(page.notices, 'error', message);
  console.warn(error);
}
