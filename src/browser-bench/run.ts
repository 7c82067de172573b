/**
 * `tenas browser-bench`: serves the built pages, opens the benchmark page in headless Chromium and
 * returns what the page reports in `window.__TENAS_BENCH__`.
 */
import { AbortError, TenasInputError, throwIfAborted, unlessAborted } from '../errors.js';
import { servePackage, type RunningServer } from '../server/serve.js';
import type { BackendResult, BrowserBenchOutcome, BrowserBenchProgress, ProxyBenchSize } from '../web/bench/outcome.js';
import { formatProxyBenchReport } from '../bench/proxies.js';
import { launchChromium, type LaunchedChromium } from './chromium.js';
import type { SpaceName } from '../spaces/index.js';
import type { BackendName } from '../engine/backend.js';

export type { BackendResult, BrowserBenchOutcome } from '../web/bench/outcome.js';

export interface BrowserBenchOptions {
  /** The browser binary; default: CHROME_PATH or the usual system paths. */
  chrome?: string;
  /** Limit for the whole page run, browser start included. Default 10 minutes. */
  timeoutMs?: number;
  space?: SpaceName;
  /** NTK batch; default: the space's reference default. */
  batch?: number;
  /** Timed runs after the warm-up. Default 2. */
  runs?: number;
  /** Also profile each pair per layer kind and pass (the page's `profile=1`). */
  profile?: boolean;
  /** Default both; WebGPU is reported unavailable where the browser or the build lacks it. */
  backends?: readonly BackendName[];
  /** The zero-cost proxy rows at this size (C = 16, N = 5, B = 64 where not given; smaller on a software adapter); default none. */
  proxies?: ProxyBenchSize | false;
  /** Stops the run (AbortError) and closes the browser and the server. */
  signal?: AbortSignal;
}

export interface BrowserBenchReport extends BrowserBenchOutcome {
  /** Console errors and uncaught page errors seen while the page ran. */
  consoleErrors: string[];
  /** The browser's own version string, e.g. `Chrome/156.0…`. */
  browserVersion: string;
}

export function benchPageQuery(options: BrowserBenchOptions): string {
  const params = new URLSearchParams();
  if (options.space) params.set('space', options.space);
  if (options.batch !== undefined) params.set('batch', String(options.batch));
  if (options.runs !== undefined) params.set('runs', String(options.runs));
  if (options.backends) params.set('backends', options.backends.join(','));
  if (options.proxies) {
    const { channels, cells, batch } = options.proxies;
    params.set('proxies', channels === undefined && cells === undefined && batch === undefined ? '1' : [channels ?? 16, cells ?? 5, batch ?? 64].join(','));
  }
  if (options.profile) params.set('profile', '1');
  const query = params.toString();
  return query ? `?${query}` : '';
}

export async function runBrowserBench(options: BrowserBenchOptions = {}): Promise<BrowserBenchReport> {
  const timeoutMs = options.timeoutMs ?? 600_000;
  if (!(timeoutMs > 0)) throw new TenasInputError(`timeout must be a positive number of milliseconds, got ${timeoutMs}`);
  const started = Date.now();
  let server: RunningServer | undefined;
  let chromium: LaunchedChromium | undefined;
  try {
    const { signal } = options;
    server = await servePackage();
    throwIfAborted(signal);
    chromium = await launchChromium({ chrome: options.chrome, timeoutMs });
    throwIfAborted(signal);
    const page = await chromium.browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error instanceof Error ? error.message : String(error)));
    const remaining = () => Math.max(1, timeoutMs - (Date.now() - started));
    await unlessAborted(page.goto(new URL(`bench/${benchPageQuery(options)}`, server.url).href, { waitUntil: 'load', timeout: remaining() }), signal);
    try {
      await unlessAborted(page.waitForFunction(() => window.__TENAS_BENCH__ !== undefined, { timeout: remaining(), polling: 250 }), signal);
    } catch (error) {
      if (error instanceof AbortError) throw error;
      const progress = await page.evaluate(() => JSON.stringify(window.__TENAS_BENCH_PROGRESS__ ?? null)).catch(() => 'null');
      const partial = JSON.parse(progress) as BrowserBenchProgress | null;
      if (!partial || partial.results.length === 0) {
        throw new TenasInputError(`the benchmark page did not finish within ${Math.round(timeoutMs / 1000)} s and measured no backend; pass a longer --timeout or a smaller --batch/--runs`);
      }
      return { ...withUnfinished(partial, timeoutMs), consoleErrors, browserVersion: await chromium.browser.version() };
    }
    const outcome = await page.evaluate(() => JSON.stringify(window.__TENAS_BENCH__));
    const parsed = JSON.parse(outcome) as BrowserBenchOutcome | { error: string };
    if ('error' in parsed) {
      throw new TenasInputError(`the benchmark page failed: ${parsed.error}${consoleErrors.length ? ` (console: ${consoleErrors.join(' | ')})` : ''}`);
    }
    return { ...parsed, consoleErrors, browserVersion: await chromium.browser.version() };
  } finally {
    await chromium?.close();
    await server?.close();
  }
}

/** The finished results, plus each requested backend that did not finish, marked as timed out. */
export function withUnfinished(progress: BrowserBenchProgress, timeoutMs: number): BrowserBenchOutcome {
  const { running: _running, requested, ...outcome } = progress;
  const finished = new Set(outcome.results.map((result) => result.backend));
  const unfinished: BackendResult[] = requested
    .filter((backend) => !finished.has(backend))
    .map((backend) => ({
      available: false,
      backend,
      timedOut: true,
      reason: `did not finish within the ${Math.round(timeoutMs / 1000)} s limit (pass a longer --timeout or a smaller --batch/--runs)`,
    }));
  return { ...outcome, results: [...outcome.results, ...unfinished] };
}

/** The report as a few lines of text (the CLI prints this unless asked for JSON). */
export function formatBrowserBenchReport(report: BrowserBenchReport): string {
  const lines = [`browser: ${report.browserVersion} (cross-origin isolated: ${report.crossOriginIsolated}, ${report.hardwareConcurrency} logical cores)`];
  for (const result of report.results) {
    if (!result.available) {
      lines.push(`${result.backend}: unavailable (${result.reason})`);
      continue;
    }
    const info = Object.entries(result.backendInfo)
      .filter(([, value]) => value !== '')
      .map(([key, value]) => `${key}=${value}`)
      .join(', ');
    lines.push(
      `${result.backend}${info ? ` (${info})` : ''}: ${result.space}, NTK batch ${result.batch}, best of ${result.runs} run(s): ` +
        `NTK pair ${result.ntkPairSeconds.toFixed(3)} s (${result.gflops.toFixed(1)} GFLOP/s), linear-region pair ${result.lrPairSeconds.toFixed(3)} s` +
        (result.note ? ` [${result.note}]` : ''),
    );
    if (result.proxies) lines.push(formatProxyBenchReport(result.proxies).trimEnd());
    if (result.proxiesSkipped) lines.push(`  zero-cost proxies not measured: ${result.proxiesSkipped}`);
  }
  if (report.consoleErrors.length > 0) lines.push(`console errors: ${report.consoleErrors.join(' | ')}`);
  return `${lines.join('\n')}\n`;
}
