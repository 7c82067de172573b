import * as Comlink from 'comlink';
import type { ImageSet } from '../data/cifar.js';
import { AbortError, TenasInputError } from '../errors.js';
import type { CandidateMeasurement, CandidateTask } from '../search/scorer.js';
import type { CandidateRunner } from '../search/search.js';
import type { ScoringService, WorkerFault, WorkerSearchContext } from './protocol.js';

/** One worker as the pool sees it, whatever runs it (worker_threads, a browser module worker). */
export interface PoolWorker {
  readonly endpoint: Comlink.Endpoint;
  /** Registers the listener for the worker dying on its own (uncaught error, exit); called at most once. */
  onLost(listener: (reason: string) => void): void;
  /** Ends the worker (the lost-listener is not called); resolves once it is gone. */
  terminate(): Promise<void>;
  /** Resolves when the worker is gone, whether it died or was terminated. */
  readonly exited: Promise<void>;
}

export type PoolWorkerFactory = () => PoolWorker;

/** A deliberate failure of the first `attempts` (default 1) attempts of one candidate: for tests only. */
export interface InjectedFault {
  readonly round: number;
  readonly index: number;
  readonly fault: WorkerFault;
  readonly attempts?: number;
}

export interface WorkerPoolRunnerOptions {
  readonly createWorker: PoolWorkerFactory;
  readonly context: WorkerSearchContext;
  /** How many workers score candidates in parallel. */
  readonly workers: number;
  /** A task running longer than this is treated as a dead worker (replaced, task retried once). Default 10 min. */
  readonly taskTimeoutMs?: number;
  readonly testFaults?: readonly InjectedFault[];
}

export const DEFAULT_TASK_TIMEOUT_MS = 10 * 60 * 1000;

/** A candidate that could not be scored: its worker died (or timed out) on both attempts. */
export class WorkerPoolError extends Error {
  override readonly name = 'WorkerPoolError';
  constructor(
    readonly round: number,
    readonly index: number,
    readonly reasons: readonly string[],
  ) {
    super(`candidate ${index} of round ${round} could not be scored: ${reasons.map((reason, attempt) => `attempt ${attempt + 1}: ${reason}`).join('; ')}`);
  }
}

/** The worker died, stalled past the time limit, or was terminated while a call was outstanding. */
class WorkerLostError extends Error {}

interface WorkerSlot {
  readonly worker: PoolWorker;
  readonly service: Comlink.Remote<ScoringService>;
  /** Rejects with a WorkerLostError when the worker dies or is terminated; never resolves. */
  readonly lost: Promise<never>;
  readonly markLost: (reason: string) => void;
  readonly ready: Promise<void>;
}

/**
 * Scores candidates in a pool of workers, each initialised once (backend, WebAssembly, images) and
 * kept for every round of the search. Results land in task order, and each task carries its own
 * random streams, so the result depends neither on the number of workers nor on completion order.
 * A worker that dies or exceeds the task time limit is replaced and its task retried once.
 * Call `close()` when the search is over.
 */
export class WorkerPoolRunner implements CandidateRunner {
  readonly workers: number;
  private readonly taskTimeoutMs: number;
  private readonly slots: (WorkerSlot | undefined)[];
  private readonly live = new Set<PoolWorker>();
  private readonly sharedImages: ImageSet | undefined;
  private closed = false;
  private running = false;
  private started = 0;

  constructor(private readonly options: WorkerPoolRunnerOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new TenasInputError(`the worker count must be a positive integer, got ${options.workers}`);
    }
    this.workers = options.workers;
    this.taskTimeoutMs = options.taskTimeoutMs ?? DEFAULT_TASK_TIMEOUT_MS;
    this.slots = new Array<WorkerSlot | undefined>(options.workers).fill(undefined);
    this.sharedImages = options.context.images && sharedCopy(options.context.images);
  }

  /** Workers started and not yet gone (for tests and diagnostics). */
  get liveWorkers(): number {
    return this.live.size;
  }

  /** Workers started so far, replacements included. */
  get workersStarted(): number {
    return this.started;
  }

  async run(tasks: CandidateTask[], onTaskDone: () => void, signal?: AbortSignal): Promise<CandidateMeasurement[]> {
    if (this.closed) throw new Error('this worker pool is closed');
    if (this.running) throw new Error('this worker pool is already running a round; runs cannot overlap');
    if (signal?.aborted) throw new AbortError();
    if (tasks.length === 0) return [];
    this.running = true;
    try {
      return await this.runTasks(tasks, onTaskDone, signal);
    } finally {
      this.running = false;
    }
  }

  private runTasks(tasks: CandidateTask[], onTaskDone: () => void, signal: AbortSignal | undefined): Promise<CandidateMeasurement[]> {
    const results = new Array<CandidateMeasurement>(tasks.length);
    const pending = tasks.map((_, position) => position);
    const failures = tasks.map((): string[] => []);
    let remaining = tasks.length;
    let settled = false;

    return new Promise<CandidateMeasurement[]>((resolve, reject) => {
      const finish = (error: Error | undefined) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (!error) {
          resolve(results);
          return;
        }
        // Stop every worker before rejecting, so that no work outlives a failed or cancelled search.
        void this.terminateAll().then(() => reject(error));
      };
      const onAbort = () => finish(new AbortError());
      signal?.addEventListener('abort', onAbort, { once: true });

      const drain = async (slotIndex: number) => {
        while (!settled && pending.length > 0) {
          const position = pending.shift()!;
          const task = tasks[position];
          const fault = this.faultFor(task, failures[position].length);
          let measurement: CandidateMeasurement;
          try {
            const slot = this.slotAt(slotIndex);
            measurement = await this.withinTimeLimit(slot.lost, slot.ready.then(() => slot.service.score(task, fault)));
          } catch (error) {
            if (settled) return;
            if (this.closed) return finish(new Error('the worker pool was closed while it was running a round'));
            if (!(error instanceof WorkerLostError)) return finish(taskError(task, error));
            void this.discard(slotIndex);
            failures[position].push(error.message);
            if (failures[position].length >= 2) return finish(new WorkerPoolError(task.round, task.index, failures[position]));
            pending.unshift(position);
            continue;
          }
          if (settled) return;
          results[position] = measurement;
          remaining--;
          try {
            onTaskDone();
          } catch (error) {
            return finish(error instanceof Error ? error : new Error(String(error)));
          }
          if (remaining === 0) return finish(undefined);
        }
      };
      for (let slotIndex = 0; slotIndex < Math.min(this.workers, tasks.length); slotIndex++) void drain(slotIndex);
    });
  }

  /** Terminates every worker (a round in progress fails); the pool cannot run again. */
  async close(): Promise<void> {
    this.closed = true;
    await this.terminateAll();
  }

  private faultFor(task: CandidateTask, failedAttempts: number): WorkerFault | undefined {
    const injected = this.options.testFaults?.find((f) => f.round === task.round && f.index === task.index);
    return injected && failedAttempts < (injected.attempts ?? 1) ? injected.fault : undefined;
  }

  private slotAt(slotIndex: number): WorkerSlot {
    return (this.slots[slotIndex] ??= this.startWorker());
  }

  private startWorker(): WorkerSlot {
    const worker = this.options.createWorker();
    this.started++;
    this.live.add(worker);
    void worker.exited.then(() => this.live.delete(worker));
    let markLost!: (reason: string) => void;
    const lost = new Promise<never>((_, reject) => {
      markLost = (reason) => reject(new WorkerLostError(reason));
    });
    lost.catch(() => {}); // observed through Promise.race; an idle worker's death is not an error by itself
    worker.onLost(markLost);
    const service = Comlink.wrap<ScoringService>(worker.endpoint);
    const ready = this.withinTimeLimit(lost, service.init(this.contextForWorker()));
    ready.catch(() => {}); // observed by the first task on this worker
    return { worker, service, lost, markLost, ready };
  }

  /** Shared pixels go to every worker as they are; otherwise each worker gets its own copy, transferred. */
  private contextForWorker(): WorkerSearchContext {
    const { context } = this.options;
    if (!context.images) return context;
    if (this.sharedImages) return { ...context, images: this.sharedImages };
    const pixels = context.images.pixels.slice();
    return Comlink.transfer({ ...context, images: { ...context.images, pixels } }, [pixels.buffer]);
  }

  private withinTimeLimit<T>(lost: Promise<never>, call: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerLostError(`no answer within the task time limit of ${this.taskTimeoutMs / 1000} s`)), this.taskTimeoutMs);
    });
    return Promise.race([call, lost, timeout]).finally(() => clearTimeout(timer));
  }

  private async discard(slotIndex: number): Promise<void> {
    const slot = this.slots[slotIndex];
    this.slots[slotIndex] = undefined;
    if (!slot) return;
    slot.markLost('the worker was terminated');
    await slot.worker.terminate();
  }

  private async terminateAll(): Promise<void> {
    await Promise.all(this.slots.map((_, slotIndex) => this.discard(slotIndex)));
  }
}

/** One copy of the pixels in shared memory that every worker reads, where shared memory is allowed. */
function sharedCopy(images: ImageSet): ImageSet | undefined {
  const crossOriginIsolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  if (typeof SharedArrayBuffer !== 'function' || crossOriginIsolated === false) return undefined;
  if (images.pixels.buffer instanceof SharedArrayBuffer) return images;
  const pixels = new Uint8Array(new SharedArrayBuffer(images.pixels.byteLength));
  pixels.set(images.pixels);
  return { ...images, pixels };
}

/** A task that failed inside a healthy worker: the error is deterministic, so it is not retried. */
function taskError(task: CandidateTask, error: unknown): Error {
  const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
  if (name === 'TenasInputError') return new TenasInputError(message);
  return new Error(`candidate ${task.index} of round ${task.round} failed in a pool worker: ${message}`, { cause: error });
}
