import { formatBrowserBenchReport, runBrowserBench } from '../../browser-bench/run.js';
import { choiceOption, flagOption, integerOption, stringOption, type ParsedOptions } from '../args.js';
import { COMMON_OPTIONS, type Command } from '../command.js';
import { abortOnInterrupt, EXIT_CANCELLED, isCancellation } from '../interrupt.js';
import { toJson, type CliIO } from '../output.js';
import { SPACE_NAMES } from '../../spaces/index.js';
import { BACKEND_NAMES } from '../../engine/backend.js';

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  const backend = choiceOption(options, 'backend', [...BACKEND_NAMES, 'all'] as const) ?? 'all';
  const settings = {
    chrome: stringOption(options, 'chrome'),
    timeoutMs: (integerOption(options, 'timeout', 1, 86_400) ?? 600) * 1000,
    space: choiceOption(options, 'space', SPACE_NAMES),
    batch: integerOption(options, 'batch', 2, 1024),
    runs: integerOption(options, 'runs', 1, 100),
    backends: backend === 'all' ? undefined : [backend],
    proxies: flagOption(options, 'proxies') ? {} : (false as const),
    profile: flagOption(options, 'profile'),
  };
  const controller = new AbortController();
  const stopListening = abortOnInterrupt(controller);
  let report;
  try {
    report = await runBrowserBench({ ...settings, signal: controller.signal });
    // A Ctrl-C that came as the page finished (Chromium closing) still means: stop, print nothing.
    controller.signal.throwIfAborted();
  } catch (error) {
    if (!isCancellation(error, controller.signal)) throw error;
    io.stderr.write('browser-bench cancelled\n');
    return EXIT_CANCELLED;
  } finally {
    stopListening();
  }
  io.stdout.write(flagOption(options, 'json') ? toJson(report) : formatBrowserBenchReport(report));
  const measured = report.results.some((result) => result.available);
  const timedOut = report.results.some((result) => !result.available && result.timedOut);
  return measured && !timedOut && report.consoleErrors.length === 0 ? 0 : 1;
}

export const browserBenchCommand: Command = {
  name: 'browser-bench',
  summary: 'run the benchmark page in headless Chromium (Puppeteer) and print its results',
  description: `Usage: tenas browser-bench [--chrome PATH] [--json] [options]

Starts the static server, opens the benchmark page in headless Chromium through Puppeteer and
prints what the page measured for each backend. On a software WebGPU adapter (SwiftShader) WebGPU
is measured at NTK batch 8, once, unless --batch is given, and its zero-cost proxy rows (--proxies,
C = 16, N = 5, batch 64 elsewhere) are skipped; the report says so. When the time
limit is reached, the backends that finished are still reported and the unfinished one is marked
timed out. Exits 0 when at least one backend was measured, none timed out and the page logged no
errors; 1 otherwise.`,
  options: {
    chrome: { type: 'string', value: 'PATH', description: 'the Chromium/Chrome binary (default: CHROME_PATH or /usr/bin/chromium)' },
    backend: { type: 'string', value: [...BACKEND_NAMES, 'all'].join('|'), description: 'backends to measure (default all: wasm and webgpu)' },
    space: { type: 'string', value: SPACE_NAMES.join('|'), description: 'search space (default nb201)' },
    batch: { type: 'string', value: 'N', description: 'NTK batch size (default: the space reference default)' },
    runs: { type: 'string', value: 'N', description: 'timed runs after the warm-up (default 2)' },
    timeout: { type: 'string', value: 'S', description: 'limit for the whole page run in seconds (default 600)' },
    proxies: { type: 'boolean', description: 'also time each zero-cost proxy and all of them together (minutes on a CPU)' },
    profile: { type: 'boolean', description: 'also profile each pair per layer kind and pass against the measured peak (as tenas bench --profile)' },
    json: { type: 'boolean', description: 'print the report as JSON' },
    ...COMMON_OPTIONS,
  },
  run,
};
