// Every user mistake must end as one `tenas: error:` line on stderr and exit code 2. Runs the built
// CLI; `npm test` builds it first (scripts/setup.mjs), the beforeAll below does when this file is run on its own.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/data/npy.js';
import { encodeSafetensors, parseSafetensors } from '../src/data/safetensors.js';
import { goldenRoot, repoRoot } from './support/golden.js';

function tenas(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'tenas.mjs'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const golden = (caseName: string, file: string) => path.join(goldenRoot, caseName, file);
const ntkWeights = golden('nb201-ntk-full-b8', 'weights.safetensors');
const ntkInput = golden('nb201-ntk-full-b8', 'input.npy');
const ntkArch = (JSON.parse(readFileSync(golden('nb201-ntk-full-b8', 'expected.json'), 'utf8')) as { alive: { arch: string } }).alive.arch;
const validArch = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|';

/** Builds the WebAssembly module and the CLI bundle when they are missing or older than their sources. */
function buildIfStale(): void {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup.mjs')], { cwd: repoRoot, stdio: 'inherit' });
}

let scratch: string;
const scratchFile = (name: string) => path.join(scratch, name);

beforeAll(() => {
  buildIfStale();
  scratch = mkdtempSync(path.join(tmpdir(), 'tenas-cli-errors-'));

  const tensors = parseSafetensors(readFileSync(ntkWeights));
  const poisoned = tensors.map((tensor, i) => (i === 3 ? { ...tensor, data: tensor.data.map((v, j) => (j === 1 ? Number.NaN : v)) } : tensor));
  writeFileSync(scratchFile('nan.safetensors'), encodeSafetensors(poisoned));

  const bytes = readFileSync(ntkWeights);
  writeFileSync(scratchFile('truncated.safetensors'), bytes.subarray(0, bytes.length - 1000));

  writeFileSync(scratchFile('wrong-shape.npy'), encodeNpy({ dtype: 'float32', shape: [8, 3, 28, 28], data: new Float32Array(8 * 3 * 28 * 28) }));
  writeFileSync(scratchFile('not-npy.npy'), 'this is plain text, not a NumPy array\n');
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const score = (...args: string[]) => ['score', '--space', 'nb201', ...args];

const cases: [string, () => string[], RegExp][] = [
  ['malformed arch', () => score('--net', 'ntk', '--arch', '|nor_conv_3x3~0|+|'), /arch string/],
  ['unknown op', () => score('--net', 'ntk', '--arch', '|conv_9x9~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'), /conv_9x9/],
  ['weights with the wrong names (a DARTS file for an NB201 net)', () => score('--net', 'thin', '--weights', golden('darts-thin-full', 'weights.safetensors')), /names do not match/],
  ['weights of the wrong shapes (--classes 100 with 10-class weights)', () => score('--net', 'ntk', '--arch', ntkArch, '--classes', '100', '--weights', ntkWeights), /shape/],
  ['weights with a NaN', () => score('--net', 'ntk', '--arch', ntkArch, '--weights', scratchFile('nan.safetensors'), '--input', ntkInput), /non-finite/],
  ['a truncated weights file', () => score('--net', 'ntk', '--arch', ntkArch, '--weights', scratchFile('truncated.safetensors')), /truncated\.safetensors/],
  ['a .npy of the wrong shape', () => score('--net', 'ntk', '--arch', ntkArch, '--input', scratchFile('wrong-shape.npy')), /\[8, 3, 28, 28\].*\[B, 3, 32, 32\]/],
  ['a thin input for the ntk net', () => score('--net', 'thin', '--input', ntkInput), /\[8, 3, 32, 32\].*\[batches, n, 1, 3, 3\]/],
  ['an input file that is not .npy', () => score('--net', 'ntk', '--input', scratchFile('not-npy.npy')), /not a NumPy \.npy file/],
  ['a weights file that does not exist', () => score('--net', 'ntk', '--weights', scratchFile('missing.safetensors')), /missing\.safetensors does not exist/],
  ['an input file that does not exist', () => score('--net', 'ntk', '--input', scratchFile('missing.npy')), /missing\.npy does not exist/],
  ['an unknown option', () => score('--net', 'ntk', '--frobnicate'), /unknown option '--frobnicate'/],
  ['an option without its value', () => ['search', '--synthetic', '--batch'], /--batch needs a value/],
  ['a stray positional argument', () => score('--net', 'ntk', 'extra'), /unexpected argument 'extra'/],
  ['--batch 0', () => score('--net', 'ntk', '--batch', '0'), /--batch must be an integer from 2 to 1024, got '0'/],
  ['--batch 2.5', () => ['search', '--synthetic', '--batch', '2.5'], /--batch must be an integer/],
  ['--seed -1', () => score('--net', 'ntk', '--seed', '-1'), /--seed must be an integer from 0 to/],
  ['--repeats 0', () => ['search', '--synthetic', '--repeats', '0'], /--repeats must be an integer from 1 to 100/],
  ['--dataset foo', () => score('--net', 'ntk', '--dataset', 'foo'), /--dataset must be one of cifar10, cifar100, imagenet16-120, imagenet-1k, got 'foo'/],
  ['--net bogus', () => score('--net', 'bogus', '--arch', validArch), /--net must be one of ntk, thin/],
  ['--net missing', () => score('--arch', validArch), /--net is required/],
  ['--protocol bogus', () => ['search', '--protocol', 'bogus'], /--protocol must be one of reference, paper/],
  ['--synthetic with --data', () => ['search', '--synthetic', '--data', ntkInput], /exclude each other/],
  ['an unknown command', () => ['frobnicate'], /unknown command 'frobnicate'/],
  ['no command', () => [], /no command given/],
  ['bench --runs 0', () => ['bench', '--runs', '0'], /--runs must be an integer from 1 to 100/],
];

describe('bad input gives one error line and exit code 2', () => {
  for (const [title, args, message] of cases) {
    it(title, () => {
      const run = tenas(args());
      expect(run.status).toBe(2);
      const lines = run.stderr.split('\n').filter((line) => line !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^tenas: error: /);
      expect(lines[0]).toMatch(message);
      expect(run.stdout).toBe('');
    });
  }

  it('--json into a folder that does not exist fails before searching and leaves nothing behind', () => {
    const target = path.join(scratch, 'json-target');
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target);
    const run = tenas(['search', '--synthetic', '--batch', '8', '--repeats', '1', '--quiet', '--json', path.join(target, 'missing', 'out.json')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^tenas: error: --json: the folder .*missing of .*out\.json does not exist/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('internal errors', () => {
  const capture = () => {
    let text = '';
    return { write: (chunk: string) => (text += chunk), text: () => text };
  };
  const failingStdout = { write: () => { throw new Error('stdout exploded'); } };

  it('are reported with a hint to report them and exit code 1', async () => {
    const { main } = await import('../src/cli/main.js');
    const stderr = capture();
    expect(await main(['--version'], { stdout: failingStdout, stderr })).toBe(1);
    const lines = stderr.text().trim().split('\n');
    expect(lines[0]).toBe('tenas: internal error: stdout exploded');
    expect(lines[1]).toMatch(/please report it.*--verbose/);
    expect(lines).toHaveLength(2);
  });

  it('--verbose adds the stack trace', async () => {
    const { main } = await import('../src/cli/main.js');
    const stderr = capture();
    expect(await main(['--version', '--verbose'], { stdout: failingStdout, stderr })).toBe(1);
    expect(stderr.text()).toMatch(/^tenas: internal error: stdout exploded\nError: stdout exploded\n\s+at /);
  });
});
