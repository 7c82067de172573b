/**
 * `tenas bench --pytorch`: the benchmark's NTK pair run in PyTorch from the engine's own network
 * description (scripts/pytorch-ntk-pair.py). Where python3 has torch, its κ must match the engine's,
 * which checks that the script executes the same networks; everywhere, a missing PyTorch must end
 * in a message that says what to install.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../src/api.js';
import { benchSetup } from '../src/bench/bench.js';
import { findPytorchPython, runPytorchBaseline } from '../src/bench/pytorch-baseline.js';
import { TenasInputError } from '../src/errors.js';
import type { SpaceName } from '../src/spaces/index.js';

const torchAvailable = ['python3', '/usr/bin/python3'].some((python) => spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);

async function engineKappas(space: SpaceName) {
  const setup = benchSetup({ space, batch: 4 });
  const engine = await Engine.create({ backend: 'wasm' });
  try {
    const kappa: [number, number] = [0, 0];
    for (const [index, network] of setup.networks.entries()) kappa[index] = (await engine.scoreNtk(network, setup.weights, setup.input, setup.batch)).kappa;
    return { setup, kappa };
  } finally {
    engine.dispose();
  }
}

describe('PyTorch baseline of the NTK pair', () => {
  const savedPython = process.env.TENAS_PYTHON;
  afterEach(() => {
    if (savedPython === undefined) delete process.env.TENAS_PYTHON;
    else process.env.TENAS_PYTHON = savedPython;
  });

  it.skipIf(!torchAvailable).each(['nb201', 'darts'] as const)('runs the %s pair from the engine description and agrees on kappa', async (space) => {
    const { setup, kappa } = await engineKappas(space);
    const baseline = await runPytorchBaseline(await findPytorchPython(), setup, 1, { seconds: 1, kappa });
    expect(baseline.threads).toBe(1);
    expect(baseline.kappa[0]).not.toBe(baseline.kappa[1]);
    expect(baseline.kappaRelativeDifference).toBeLessThan(1e-4);
    expect(baseline.speedup).toBeCloseTo(baseline.ntkPairSeconds, 12);
  }, 120_000);

  it('says what to install when no python with PyTorch can run it, before any benchmark runs', async () => {
    process.env.TENAS_PYTHON = '/nonexistent/python3';
    const failure = findPytorchPython();
    await expect(failure).rejects.toBeInstanceOf(TenasInputError);
    await expect(failure).rejects.toThrow(/\/nonexistent\/python3: not found.*apt-get install python3-torch/);
  });
});
