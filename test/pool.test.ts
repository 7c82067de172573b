import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, type SearchResult } from '../src/api.js';
import { env } from '../src/env.js';
import type { ImageSet } from '../src/data/cifar.js';
import { loadEmbeddedCifar } from '../src/data/embedded.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { ArchScorer } from '../src/evaluation/arch-scorer.js';
import { selectArchs } from '../src/evaluation/selection.js';
import { createWorkerPool, startArchScoringWorker, WorkerPoolError, type CreateWorkerPoolOptions, type WorkerPoolRunner } from '../src/pool/index.js';
import { InProcessRunner } from '../src/search/in-process-runner.js';
import { CandidateScorer, type CandidateTask } from '../src/search/scorer.js';
import { resolveSettings } from '../src/search/settings.js';
import { nb201Space } from '../src/spaces/nb201/space.js';
import { fmaTitle, fmaUnavailable } from './support/fma.js';
import { repoRoot } from './support/golden.js';

const small = { space: 'nb201' as const, ntkBatch: 8, repeats: 1, regionPatches: 200, seed: 11 };
const settings = resolveSettings(small);

let engine: Engine;
let images: ImageSet;
let bundleDir: string;
let workerUrl: URL;
let reference: SearchResult;
const pools: WorkerPoolRunner[] = [];

// The worker runs as a real bundle, as it does from dist/node/worker.js. It is built inside the
// package (under node_modules/.cache) so that its external imports resolve from the package.
beforeAll(async () => {
  const cacheDir = path.join(repoRoot, 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  bundleDir = mkdtempSync(path.join(cacheDir, 'tenas-pool-test-'));
  const outfile = path.join(bundleDir, 'worker.mjs');
  await build({
    absWorkingDir: repoRoot,
    entryPoints: ['src/worker.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    loader: { '.wasm': 'binary', '.wgsl': 'text' },
    external: ['webgpu'],
    logLevel: 'warning',
  });
  workerUrl = pathToFileURL(outfile);
  env.workerUrl = workerUrl;
  [engine, images] = await Promise.all([Engine.create({ backend: 'wasm' }), loadEmbeddedCifar()]);
  reference = await engine.search({ ...small, images });
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  engine?.dispose();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

async function pool(options: Partial<CreateWorkerPoolOptions> = {}): Promise<WorkerPoolRunner> {
  const runner = await createWorkerPool({ backend: 'wasm', settings, images, workers: 2, ...options });
  pools.push(runner);
  return runner;
}

function timeless(result: SearchResult) {
  return JSON.parse(JSON.stringify({ ...result, timings: undefined, history: result.history.map((round) => ({ ...round, seconds: 0 })) }));
}

/** The first candidates of round 0, as the search builds them. */
function roundZeroTasks(count: number): CandidateTask[] {
  const mask = nb201Space.supernetMask();
  const tasks: CandidateTask[] = [];
  for (let edge = 0; tasks.length < count; edge++) {
    for (let op = 0; op < mask[0][edge].length && tasks.length < count; op++) {
      const candidate = mask.map((cell) => cell.map((ops) => [...ops]));
      candidate[0][edge][op] = false;
      tasks.push({ round: 0, index: tasks.length, ntkDrawRound: 0, masks: { ntk: { origin: mask, candidate }, thin: { origin: mask, candidate } } });
    }
  }
  return tasks;
}

describe('worker pool', () => {
  it('gives the in-process result with 1 and with 2 workers (Engine.search workers option)', async () => {
    const progress: number[] = [];
    const one = await engine.search({ ...small, images, workers: 1 });
    const two = await engine.search({ ...small, images, workers: 2, onProgress: (p) => progress.push(p.done) });
    expect(timeless(one)).toEqual(timeless(reference));
    expect(timeless(two)).toEqual(timeless(reference));
    expect(progress.at(-1)).toBe(54);
  });

  it.skipIf(fmaUnavailable)(fmaTitle('gives one result with 1 and 2 workers on the fused multiply-add kernels'), async () => {
    const fused = await Engine.create({ backend: 'wasm-fma' });
    try {
      const one = await fused.search({ ...small, images, workers: 1 });
      const two = await fused.search({ ...small, images, workers: 2 });
      expect(one.backend.name).toBe('wasm-fma');
      expect(timeless(two)).toEqual(timeless(one));
    } finally {
      fused.dispose();
    }
  });

  it('starts each worker once per search and shuts them all down after it', async () => {
    const runner = await pool({ workers: 2 });
    const result = await engine.search({ ...small, images, runner });
    expect(timeless(result)).toEqual(timeless(reference));
    expect(runner.workersStarted).toBe(2);
    expect(runner.liveWorkers).toBe(2);
    await runner.close();
    expect(runner.liveWorkers).toBe(0);
  });

  it('replaces a worker that exits or throws mid-round and retries its task, with the same result', async () => {
    const runner = await pool({
      testFaults: [
        { round: 0, index: 5, fault: 'exit' },
        { round: 1, index: 7, fault: 'uncaught' },
      ],
    });
    const result = await engine.search({ ...small, images, runner });
    expect(timeless(result)).toEqual(timeless(reference));
    expect(runner.workersStarted).toBe(4);
    await runner.close();
  });

  it('replaces a worker that exceeds the task time limit', async () => {
    const tasks = roundZeroTasks(4);
    const scorer = new CandidateScorer(engine.backend, await LinearAlgebra.create(), nb201Space, settings, images);
    const expected = await new InProcessRunner(scorer).run(tasks, () => {});
    const runner = await pool({ taskTimeoutMs: 6000, testFaults: [{ round: 0, index: 1, fault: 'stall' }] });
    await runner.run([tasks[0], tasks[2]], () => {}); // both workers started and initialised; the faulty task not yet run
    expect(await runner.run(tasks, () => {})).toEqual(expected);
    expect(runner.workersStarted).toBe(3);
    await runner.close();
  });

  it('aborts the search naming the candidate when its retry fails too', async () => {
    const runner = await pool({ testFaults: [{ round: 0, index: 2, fault: 'exit', attempts: 2 }] });
    const failure = engine.search({ ...small, images, runner });
    await expect(failure).rejects.toBeInstanceOf(WorkerPoolError);
    await expect(failure).rejects.toThrow(/candidate 2 of round 0 .*attempt 1: the worker exited with code 1; attempt 2: the worker exited with code 1/);
    expect(runner.liveWorkers).toBe(0);
  });

  it('rejects with an AbortError within 1 s of an abort mid-round and leaves no worker', async () => {
    const runner = await pool();
    const controller = new AbortController();
    let abortedAt = 0;
    const search = engine.search({
      ...small,
      images,
      runner,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.round === 1 && p.candidate === 3 && !abortedAt) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    await expect(search).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - abortedAt).toBeLessThan(1000);
    expect(runner.liveWorkers).toBe(0);
  });

  it('stops the workers it started when a search with `workers` is aborted', async () => {
    const controller = new AbortController();
    const search = engine.search({ ...small, images, workers: 2, signal: controller.signal, onProgress: (p) => p.done === 4 && controller.abort() });
    await expect(search).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('scores an architecture in a worker exactly as in process, and can be closed in the middle of a score', async () => {
    const [arch, second] = selectArchs({ sample: 2, seed: 3 });
    const inProcess = await new ArchScorer(engine.backend, await LinearAlgebra.create(), settings, images).score(arch);
    const worker = await startArchScoringWorker({ backend: 'wasm', settings, images });
    try {
      expect(await worker.score(arch)).toEqual(inProcess);
      const outcome = expect(worker.score(second)).rejects.toThrow('the scoring worker stopped: it was closed');
      await worker.close();
      await outcome;
    } finally {
      await worker.close();
    }
  });

  it('names the missing worker script and the fix before starting any worker', async () => {
    const missing = pathToFileURL(path.join(bundleDir, 'no-such-worker.js'));
    const attempt = createWorkerPool({ backend: 'wasm', settings, images, workers: 1, workerUrl: missing });
    await expect(attempt).rejects.toMatchObject({ name: 'TenasInputError', message: expect.stringMatching(/no-such-worker\.js does not exist: .*env\.workerUrl/) });
  });
});
