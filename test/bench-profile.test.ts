/**
 * `tenas bench --profile`: the kernel profile of the NTK and linear-region pairs on WebAssembly,
 * against this machine's measured f32x4 multiply-add peak and memory bandwidth, with the kernel
 * functions' sampled self time, and on WebGPU, whose dispatches are timed on the GPU.
 */
import { describe, expect, it } from 'vitest';
import { benchSetup, runBenchmarks } from '../src/bench/bench.js';
import { profileUnits, type ProfileRow } from '../src/bench/profile.js';
import { FUSED_BACKWARD } from '../src/engine/wasm/profile.js';
import { ntkFlops } from '../src/graph/flops.js';
import { KERNELS } from '../src/engine/webgpu/kernels.js';
import { profiledEntryPoint } from '../src/engine/webgpu/timestamps.js';

const key = (row: ProfileRow) => `${row.stage}/${row.pass}`;

describe('bench profile (WebAssembly)', () => {
  it('splits each pair by layer kind and pass, counts the same work as the FLOP model, and rates it against the measured peak', async () => {
    const report = await runBenchmarks({ backend: 'wasm', batch: 4, runs: 1, profile: true });
    const profile = report.profile!;
    expect(profile.peak.simdGflops).toBeGreaterThan(0.5);
    expect(profile.peak.memoryGBps).toBeGreaterThan(0.1);
    expect(profile.note).toBeUndefined();
    expect(profile.clock).toBe('cpu');

    const ntk = profile.ntkPair.rows;
    expect(ntk.map(key)).toEqual(
      expect.arrayContaining(['conv/forward', 'conv/backward-input', 'conv/backward-weight', 'batchnorm/forward', 'batchnorm/backward', 'pooling/backward', 'linear/backward', 'gram/solve', 'eigen-solve/solve', 'host/other']),
    );
    // The dense kernels' work adds up to what the FLOP model says one NTK pair is.
    const denseGflop = ntk.filter((row) => row.stage === 'conv' || row.stage === 'linear').reduce((total, row) => total + row.gflop!, 0);
    expect(denseGflop / report.ntkPairGflop).toBeCloseTo(1, 9);
    for (const row of ntk.filter((row) => row.stage === 'conv')) {
      expect(row.gflops).toBeCloseTo(row.gflop! / row.seconds, 6);
      expect(row.peakFraction).toBeCloseTo(row.gflops! / profile.peak.simdGflops, 6);
    }
    // Memory-bound kernels are rated against the bandwidth instead.
    const bnBackward = ntk.find((row) => key(row) === 'batchnorm/backward')!;
    expect(bnBackward.gflop).toBeUndefined();
    expect(bnBackward.bandwidthFraction).toBeGreaterThan(0);
    // The rows (kernels and the host's remainder) account for the whole profiled time.
    const shares = ntk.reduce((total, row) => total + row.share, 0);
    expect(shares).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(ntk.reduce((total, row) => total + row.seconds, 0)).toBeGreaterThanOrEqual(profile.ntkPair.seconds * (1 - 1e-9));

    const lr = profile.lrPair.rows.map(key);
    expect(lr).toEqual(expect.arrayContaining(['conv/forward', 'patterns/forward', 'patterns/solve']));
    expect(lr).not.toContain('conv/backward-weight');

    // One more run of each pair under V8's sampling profiler names the kernels (the module's name
    // section) and splits the fused backward call, which per-call timing sees as one.
    const functions = profile.ntkPair.functions!.map((row) => row.name);
    expect(functions).toEqual(expect.arrayContaining(['conv/correlate_sample_3x3', 'conv/weight_gradient_3x3', ...Object.keys(FUSED_BACKWARD.parts)]));
    expect(profile.lrPair.functions!.map((row) => row.name)).toEqual(expect.arrayContaining(['conv/conv_forward_generic', 'patterns/pack_signs']));
    const fused = ntk.find((row) => key(row) === 'conv/backward')!;
    const parts = fused.parts!;
    expect(parts.batchnorm).toBeGreaterThan(0);
    expect(parts.pooling).toBeGreaterThan(0);
    expect(parts.products).toBeGreaterThan(0.5);
    expect(parts.products + parts.batchnorm + parts.pooling).toBeCloseTo(1, 9);
    expect(parts.productGflops).toBeCloseTo(fused.gflops! / parts.products, 6);
    expect(parts.productPeakFraction).toBeCloseTo(parts.productGflops / profile.peak.simdGflops, 6);
    expect(ntk.filter((row) => row.parts).length).toBe(1);
  }, 300_000);
});

describe('bench profile (WebGPU)', () => {
  it('times every dispatch on the GPU with timestamp queries and counts the same dense work as the FLOP model', async () => {
    // The benchmark's pairs at B = 2, profiled directly (a software adapter makes each pass slow).
    const setup = benchSetup({ batch: 2 });
    const profile = await profileUnits('webgpu', {
      ntkPair: async (engine) => {
        for (const network of setup.networks) await engine.scoreNtk(network, setup.weights, setup.input, setup.batch);
      },
      lrPair: async () => {},
    });
    expect(profile.clock).toBe('wall');
    const ntk = profile.ntkPair.rows;
    const gpu = ntk.filter((row) => row.device === 'gpu');
    expect(gpu.map(key)).toEqual(expect.arrayContaining(['conv/forward', 'conv/backward-input', 'conv/backward-weight', 'batchnorm/forward', 'batchnorm/backward', 'linear/backward']));
    // A tiny dispatch may start and end on the same timestamp tick; the convolutions may not.
    expect(gpu.every((row) => row.seconds >= 0 && row.peakFraction === undefined)).toBe(true);
    expect(gpu.filter((row) => row.stage === 'conv').every((row) => row.seconds > 0)).toBe(true);
    const denseGflop = gpu.filter((row) => row.gflop !== undefined).reduce((total, row) => total + row.gflop!, 0);
    const modelGflop = setup.networks.reduce((total, network) => total + ntkFlops(network, setup.batch), 0) / 1e9;
    expect(denseGflop / modelGflop).toBeCloseTo(1, 9);
    // Gram and eigen-solve stay on the CPU; the rest of the wall time is the host's.
    expect(ntk.filter((row) => row.device === 'cpu').map(key)).toEqual(expect.arrayContaining(['gram/solve', 'eigen-solve/solve', 'host/other']));
    expect(profile.note).toMatch(/timestamp queries/);
  }, 300_000);

  it('has a profile row for every WebGPU entry point', () => {
    const missing = Object.values(KERNELS).filter((kernel) => !profiledEntryPoint(kernel.key));
    expect(missing.map((kernel) => kernel.key)).toEqual([]);
  });
});
