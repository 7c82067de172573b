// The SLURM recipe of the README, run for real: examples/slurm/submit.sh submits 4 shards of a
// 16-architecture sample to a single-node cluster started here (test/support/slurm-cluster.ts), one
// shard is requeued while it runs (as a preemption would), and the merge job's rows and report must
// equal the same sample scored in one process. Tiny settings (batch 32, 200 patches) keep it short.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/golden.js';
import { SlurmCluster, slurmUnavailableReason } from './support/slurm-cluster.js';

const SHARDS = 4;
const SCORING = ['--space', 'nb201', '--sample', '16', '--seed', '4', '--batch', '32', '--patches', '200', '--backend', 'wasm'];
const tenasCommand = [process.execPath, path.join(repoRoot, 'bin', 'tenas.mjs')];
const unavailable = slurmUnavailableReason();

function tenas(args: string[], cwd: string) {
  const result = spawnSync(tenasCommand[0], [...tenasCommand.slice(1), ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking: the one-process reference run overlaps the array job. */
function tenasInBackground(args: string[], cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(tenasCommand[0], [...tenasCommand.slice(1), ...args], { cwd, encoding: 'utf8', timeout: 240_000 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

function dataLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(1).filter((line) => line !== '') : [];
}

/** Rows without their timing column, which differs from run to run, in arch order. */
const scoresOf = (lines: string[]) => lines.map((line) => line.split(',').slice(0, -1).join(',')).sort();

describe.skipIf(unavailable !== undefined)(
  unavailable === undefined ? 'tenas correlate as a SLURM job array' : `tenas correlate as a SLURM job array (SKIPPED: ${unavailable})`,
  () => {
    let cluster: SlurmCluster | undefined;
    let scratch: string;

    beforeAll(async () => {
      execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup.mjs')], { cwd: repoRoot, stdio: 'inherit' });
      scratch = mkdtempSync(path.join(tmpdir(), 'tenas-slurm-run-'));
      cluster = await SlurmCluster.start();
    }, 60_000);

    afterAll(async () => {
      await cluster?.stop();
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
    }, 60_000);

    const FINISHED = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE'];

    it('a requeued shard resumes its file, and the merge job writes the one-process rows and report', async () => {
      const run = path.join(scratch, 'run');
      const submit = spawnSync('bash', [path.join(repoRoot, 'examples', 'slurm', 'submit.sh'), run, String(SHARDS), ...SCORING], {
        cwd: scratch,
        env: { ...cluster!.env, TENAS: tenasCommand.join(' ') },
        encoding: 'utf8',
      });
      expect(submit.status, submit.stderr).toBe(0);
      const ids = /array job (\d+) \(4 shards\), merge job (\d+)/.exec(submit.stdout);
      expect(ids, submit.stdout).not.toBeNull();
      const [, arrayJob, mergeJob] = ids!;
      const wholeRun = tenasInBackground(['correlate', ...SCORING, '--out', 'whole.csv', '--quiet'], scratch);

      // Preempt the first shard seen with a finished row while it still runs: scontrol requeue
      // kills it and queues it again. SLURM holds a requeued job back for two minutes; start it now.
      let requeued: { shard: number; rowsBefore: number } | undefined;
      const runningWithRows = () => {
        for (let shard = 1; shard <= SHARDS; shard++) {
          const rows = dataLines(path.join(run, `shard-${shard}.csv`)).length;
          if (rows >= 1 && rows < 4 && cluster!.jobState(`${arrayJob}_${shard}`) === 'RUNNING') {
            cluster!.slurm('scontrol', ['requeue', `${arrayJob}_${shard}`]);
            requeued = { shard, rowsBefore: rows };
            return true;
          }
        }
        return false;
      };
      await cluster!.waitFor('a running shard with a finished row', runningWithRows, 90_000);
      const { shard: requeuedShard, rowsBefore } = requeued!;
      const task = `${arrayJob}_${requeuedShard}`;
      await cluster!.waitFor(`${task} to be pending again`, () => cluster!.jobState(task) === 'PENDING', 30_000);
      cluster!.slurm('scontrol', ['update', `JobId=${task}`, 'StartTime=now']);

      const midRun = tenas(['correlate', '--status', run, '--shards', '4', '--sample', '16'], scratch);
      expect(midRun.status, midRun.stderr).toBe(0);
      expect(midRun.stdout).toMatch(/^\d+ of 16 architecture\(s\) scored /);

      await cluster!.waitFor(`merge job ${mergeJob} to finish`, () => FINISHED.includes(cluster!.jobState(mergeJob)), 240_000);
      expect(cluster!.jobState(mergeJob), cluster!.logs()).toBe('COMPLETED');
      for (let shard = 1; shard <= SHARDS; shard++) expect(cluster!.jobState(`${arrayJob}_${shard}`)).toBe('COMPLETED');
      expect(cluster!.slurm('scontrol', ['show', 'job', task])).toMatch(/Restarts=1\b/);

      // The requeued task ran twice, into the same log, and its second run resumed the shard file.
      const log = readFileSync(path.join(run, 'logs', `shard-${requeuedShard}.log`), 'utf8');
      expect(log).toContain(`shard ${requeuedShard}/4: run 1 `);
      expect(log).toContain(`shard ${requeuedShard}/4: run 2 `);
      const resumed = /4 architecture\(s\) selected \(shard \d\/4\): (\d) already in \S+, (\d) to score/g;
      const runs = [...log.matchAll(resumed)].map((match) => ({ done: Number(match[1]), todo: Number(match[2]) }));
      expect(runs).toHaveLength(2);
      expect(runs[0]).toEqual({ done: 0, todo: 4 });
      expect(runs[1].done).toBeGreaterThanOrEqual(rowsBefore);
      expect(runs[1].todo, 'the requeued shard had rows left to score').toBeGreaterThanOrEqual(1);

      // The same sample in one process: identical rows and the identical report.
      const whole = await wholeRun;
      expect(whole.status, whole.stderr).toBe(0);
      const merged = dataLines(path.join(run, 'merged.csv'));
      expect(merged).toHaveLength(16);
      expect(scoresOf(merged)).toEqual(scoresOf(dataLines(path.join(scratch, 'whole.csv'))));
      expect(readFileSync(path.join(run, 'report.txt'), 'utf8')).toBe(whole.stdout);
      expect(readFileSync(path.join(run, 'merged.csv.svg'), 'utf8')).toMatch(/^<svg [^]*<\/svg>\n$/);
      expect(readFileSync(path.join(run, 'logs', 'merge.log'), 'utf8')).toContain('merged 16 architectures from 16 rows in 4 file(s)');

      const status = tenas(['correlate', '--status', run, '--shards', '4', '--sample', '16'], scratch);
      expect(status.stderr).toBe('');
      expect(status.status).toBe(0);
      expect(status.stdout).toContain('16 of 16 architecture(s) scored');
    }, 300_000);
  },
);
