import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPackageRoot } from '../data/package-root.js';
import { TenasInputError } from '../errors.js';
import { tensorSize } from '../graph/ir.js';
import type { BenchSetup } from './bench.js';

/** The benchmark's NTK pair timed in PyTorch (`scripts/pytorch-ntk-pair.py`), on one CPU thread. */
export interface PytorchBaseline {
  readonly torch: string;
  readonly threads: number;
  readonly ntkPairSeconds: number;
  /** PyTorch's κ of the supernet and of the candidate (float32 gradients, float64 eigen-solve). */
  readonly kappa: readonly [number, number];
  /** PyTorch's time over the engine's, in the same run. */
  readonly speedup: number;
  /** Largest relative difference between the engine's κ and PyTorch's over the pair. */
  readonly kappaRelativeDifference: number;
}

const SCRIPT = 'scripts/pytorch-ntk-pair.py';
const INSTALL_HINT = 'install PyTorch for python3 (Debian: apt-get install python3-torch; elsewhere: pip install torch), set TENAS_PYTHON to a python that has it, or leave out --pytorch';

/**
 * TENAS_PYTHON when set; otherwise the python3 on PATH, then the system's (where Debian's
 * python3-torch installs, which a pyenv or venv python on PATH does not see).
 */
function pythonCandidates(): string[] {
  const chosen = process.env.TENAS_PYTHON;
  return chosen ? [chosen] : ['python3', '/usr/bin/python3'];
}

/** The first candidate python that imports torch; checked before any benchmark runs, so a missing PyTorch costs nothing. */
export async function findPytorchPython(): Promise<string> {
  const tried: string[] = [];
  for (const python of pythonCandidates()) {
    const outcome = await new Promise<string>((resolve) => {
      const child = spawn(python, ['-c', 'import torch'], { stdio: 'ignore' });
      child.on('error', () => resolve('not found'));
      child.on('close', (code) => resolve(code === 0 ? '' : 'cannot import torch'));
    });
    if (outcome === '') return python;
    tried.push(`${python}: ${outcome}`);
  }
  throw new TenasInputError(`--pytorch needs python3 with PyTorch (${tried.join('; ')}): ${INSTALL_HINT}`);
}

/**
 * Runs the benchmark's NTK pair in PyTorch in a child process: the networks' descriptions, the
 * weights and the input batch go to a temporary folder, and the script reports its best time and
 * its condition numbers as one JSON line.
 */
export async function runPytorchBaseline(
  python: string,
  setup: BenchSetup,
  runs: number,
  engine: { seconds: number; kappa: readonly [number, number] },
  signal?: AbortSignal,
): Promise<PytorchBaseline> {
  const script = join(findPackageRoot(SCRIPT), SCRIPT);
  const folder = await mkdtemp(join(tmpdir(), 'tenas-pytorch-'));
  try {
    const [supernet] = setup.networks;
    await writeFile(join(folder, 'pair.json'), JSON.stringify({ batch: setup.batch, inputFloats: tensorSize(supernet.input), networks: setup.networks }));
    await writeFile(join(folder, 'weights.f32'), concatenate(setup.weights));
    await writeFile(join(folder, 'input.f32'), new Uint8Array(setup.input.buffer, setup.input.byteOffset, setup.input.byteLength));
    const output = await runPython(python, script, [folder, String(runs)], signal);
    const measured = parseReport(output);
    const kappaRelativeDifference = Math.max(...measured.kappa.map((kappa, index) => Math.abs(kappa - engine.kappa[index]) / Math.abs(kappa)));
    return { ...measured, speedup: measured.ntkPairSeconds / engine.seconds, kappaRelativeDifference };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function concatenate(tensors: readonly Float32Array[]): Uint8Array {
  const all = new Float32Array(tensors.reduce((total, tensor) => total + tensor.length, 0));
  let offset = 0;
  for (const tensor of tensors) {
    all.set(tensor, offset);
    offset += tensor.length;
  }
  return new Uint8Array(all.buffer);
}

function runPython(python: string, script: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${SCRIPT} exited with code ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

function parseReport(output: string): Omit<PytorchBaseline, 'speedup' | 'kappaRelativeDifference'> {
  const report = JSON.parse(output.trim().split('\n').at(-1) ?? '') as Omit<PytorchBaseline, 'speedup' | 'kappaRelativeDifference'>;
  if (typeof report.ntkPairSeconds !== 'number' || report.kappa?.length !== 2) throw new Error(`${SCRIPT} printed no report: ${output.slice(0, 200)}`);
  return report;
}
