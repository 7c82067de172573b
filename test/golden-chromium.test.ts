/**
 * Golden cases inside headless Chromium: the browser bundle (`dist/browser/index.js`) scores them on
 * WebAssembly (both builds: Chromium has relaxed SIMD, so `wasm-fma` runs without any flag) and on
 * the browser's own WebGPU (SwiftShader), reading the case files over HTTP.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findChromium, launchChromium, type LaunchedChromium } from '../src/browser-bench/chromium.js';
import { packageWebLayout, startServer, type RunningServer } from '../src/server/serve.js';
import { goldenCases, goldenRoot, repoRoot } from './support/golden.js';

const chrome = findChromium();
const CASES = ['nb201-ntk-in16-b8', 'nb201-ntk-bnrand-b8', 'nb201-thin-mask'];

interface PageScore {
  kappa?: number;
  lambdaMax?: number;
  gradientDim?: number;
  regions?: number;
  features?: number;
  backend: string;
}

let server: RunningServer;
let chromium: LaunchedChromium;

describe.skipIf(!chrome)('golden cases in headless Chromium (skipped without Chromium: apt-get install -y chromium)', () => {
  beforeAll(async () => {
    const layout = packageWebLayout();
    const mounts = [...layout.mounts, { prefix: '/golden/', directory: goldenRoot }, { prefix: '/lib/', directory: join(repoRoot, 'dist', 'browser') }];
    server = await startServer({ root: layout.root, mounts });
    chromium = await launchChromium({ chrome });
  });
  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  for (const backend of ['wasm', 'wasm-fma', 'webgpu'] as const) {
    for (const golden of goldenCases((e) => CASES.includes(e.case))) {
      test(`${golden.name} on ${backend}`, async () => {
        const page = await chromium.browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(String(error)));
        await page.goto(new URL('/app/', server.url).href, { waitUntil: 'load' });
        const score = await page.evaluate(
          async (name: string, backendName: string): Promise<PageScore> => {
            // Built at run time so that vitest does not rewrite the page's own dynamic import.
            const importInPage = new Function('url', 'return import(url)') as (url: string) => Promise<any>;
            const api = await importInPage('/lib/index.js');
            const bytes = async (file: string) => new Uint8Array(await (await fetch(`/golden/${name}/${file}`)).arrayBuffer());
            const e = JSON.parse(new TextDecoder().decode(await bytes('expected.json')));
            const engine = await api.Engine.create({ backend: backendName });
            const arch = typeof e.alive.arch === 'string' ? e.alive.arch : JSON.stringify(e.alive.arch);
            const network = engine.buildNetwork({ space: e.space, net: e.net, arch, dataset: e.dataset, classes: e.classes });
            const weights = api.weightsFromTensors(network, api.parseSafetensors(await bytes('weights.safetensors')), 'weights.safetensors');
            const input = api.parseNpy(await bytes('input.npy')).data as Float32Array;
            try {
              if (e.net === 'ntk') {
                const s = await engine.scoreNtk(network, weights, input, e.batch);
                return { kappa: s.kappa, lambdaMax: s.eigenvalues[e.batch - 1], gradientDim: s.gradientDim, backend: engine.backend.name };
              }
              const third = input.length / 3;
              const batches = [0, 1, 2].map((b) => input.subarray(b * third, (b + 1) * third));
              const s = await engine.scoreRegions(network, weights, batches, e.batch);
              return { regions: s.regions, features: s.features, backend: engine.backend.name };
            } finally {
              engine.dispose();
            }
          },
          golden.name,
          backend,
        );
        await page.close();
        const e = golden.expected;
        expect(errors).toEqual([]);
        expect(score.backend).toBe(backend);
        if (e.net === 'ntk') {
          expect(score.gradientDim).toBe(e.P);
          expect(Math.abs(score.kappa! - e.kappa_f64!) / e.kappa_f64!).toBeLessThanOrEqual(2e-3);
          const lambdaMax = e.eig_f64![e.eig_f64!.length - 1];
          expect(Math.abs(score.lambdaMax! - lambdaMax) / lambdaMax).toBeLessThanOrEqual(1e-4);
        } else {
          expect(score.regions).toBe(e.regions);
          expect(score.features).toBe(e.features);
        }
      }, 180_000);
    }
  }
});
