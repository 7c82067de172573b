/**
 * The web pages in real headless Chromium (puppeteer-core): a short search in the app, cancelling,
 * the user's own images, and the benchmark page through `runBrowserBench`. Skipped only where no
 * Chromium binary exists (then install one: `apt-get install -y chromium`, or set CHROME_PATH).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { describe, expect, test } from 'vitest';
import { findChromium } from '../src/browser-bench/chromium.js';
import { formatBrowserBenchReport, runBrowserBench, withUnfinished } from '../src/browser-bench/run.js';
import { PROXY_INDICATORS } from '../src/metrics/proxies/index.js';
import { parseNb201Mask } from '../src/spaces/nb201/arch.js';
import { servePackage } from '../src/server/serve.js';
import { useServedPages, waitForState } from './support/served-pages.js';

const chrome = findChromium();
const root = join(import.meta.dirname, '..');
const outputDir = join(root, 'test-output');
const SHORT_SEARCH = 'batch=8&repeats=1&patches=200&workers=0';
const NB201_ARCH = /^\|[a-z_0-9]+~0\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|\+\|[a-z_0-9]+~0\|[a-z_0-9]+~1\|[a-z_0-9]+~2\|$/;

interface AppSnapshot {
  state: string;
  arch: string;
  error?: string;
  benchmark: string;
  aliveLines: number;
  prunedRows: number;
  trajectoryPoints: number;
  rounds: number;
}

function snapshot(page: Page): Promise<AppSnapshot> {
  return page.evaluate(() => {
    const app = (window as unknown as { __TENAS_APP__?: { state: string; error?: string } }).__TENAS_APP__;
    return {
      state: app?.state ?? 'missing',
      arch: document.getElementById('arch')?.textContent ?? '',
      error: app?.error,
      benchmark: document.getElementById('benchmark')?.textContent ?? '',
      aliveLines: document.querySelectorAll('#cell-graph line.op-line.alive').length,
      prunedRows: document.querySelectorAll('#round-table tr.pruned').length,
      trajectoryPoints: document.querySelectorAll('#trajectory circle.point').length,
      rounds: document.querySelectorAll('#round-select option').length,
    };
  });
}

/** Decodes the PNG in the page and returns the share of pixels that are not (near) white. */
async function inkShare(page: Page, png: Uint8Array): Promise<number> {
  const base64 = Buffer.from(png).toString('base64');
  return page.evaluate(async (encoded: string) => {
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d')!;
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 235 || data[i + 1] < 235 || data[i + 2] < 235) ink++;
    return ink / (data.length / 4);
  }, base64);
}

async function saveScreenshot(page: Page, name: string): Promise<Uint8Array> {
  mkdirSync(outputDir, { recursive: true });
  const png = await page.screenshot({ fullPage: true, type: 'png' });
  writeFileSync(join(outputDir, name), png);
  return png;
}

describe.skipIf(!chrome)(chrome ? 'web pages in headless Chromium' : 'web pages in headless Chromium (SKIPPED: no Chromium binary found; apt-get install -y chromium or set CHROME_PATH)', () => {
  const { openPage, browser } = useServedPages(chrome);

  test('the app runs a short NB201 search on WebAssembly and shows the architecture', async () => {
    const { page, errors } = await openPage(`app/?${SHORT_SEARCH}&backend=wasm&autostart=1`);
    await waitForState(page, ['done', 'error', 'cancelled'], 90_000);
    const result = await snapshot(page);
    expect(result.error).toBeUndefined();
    expect(result.state).toBe('done');
    expect(result.arch).toMatch(NB201_ARCH);
    expect(parseNb201Mask(result.arch).every((edge) => edge.filter(Boolean).length === 1)).toBe(true);
    expect(result.benchmark).toMatch(/CIFAR-10 \d+\.\d+ %/);
    expect(result.aliveLines).toBe(6);
    expect(result.rounds).toBe(3);
    expect(result.trajectoryPoints).toBe(3);
    expect(result.prunedRows).toBe(6);
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    const png = await saveScreenshot(page, 'app-wasm.png');
    expect(png.byteLength).toBeGreaterThan(50_000);
    expect(await inkShare(page, png)).toBeGreaterThan(0.05);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('Cancel stops a running search', async () => {
    const { page, errors } = await openPage(`app/?batch=8&repeats=2&patches=300&workers=0&backend=wasm&autostart=1`);
    await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 1, { timeout: 60_000, polling: 50 });
    await page.click('#cancel');
    await waitForState(page, ['cancelled', 'done', 'error'], 30_000);
    expect((await snapshot(page)).state).toBe('cancelled');
    expect(await page.$eval('#start', (button) => (button as HTMLButtonElement).disabled)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("the app searches the user's own images in a module worker", async () => {
    const { page, errors } = await openPage(`app/?batch=8&repeats=1&patches=200&workers=1&backend=wasm`);
    await waitForState(page, ['idle'], 30_000);
    // Images to upload: tiles of the CIFAR contact sheet, taken as PNG screenshots.
    const box = (await (await page.$('#preview'))!.boundingBox())!;
    const files: string[] = [];
    mkdirSync(join(outputDir, 'own-images'), { recursive: true });
    for (let i = 0; i < 12; i++) {
      const tile = box.width / 12;
      const png = await page.screenshot({ type: 'png', clip: { x: box.x + i * tile, y: box.y, width: tile, height: box.height / 2 } });
      const file = join(outputDir, 'own-images', `tile-${i}.png`);
      writeFileSync(file, png);
      files.push(file);
    }
    const input = (await page.$('#files'))!;
    await (input as unknown as { uploadFile(...paths: string[]): Promise<void> }).uploadFile(...files);
    await page.waitForFunction(() => /12 images/.test(document.getElementById('data-status')?.textContent ?? ''), { timeout: 30_000 });
    await page.click('#start');
    await waitForState(page, ['done', 'error', 'cancelled'], 90_000);
    const result = await snapshot(page);
    expect(result.error).toBeUndefined();
    expect(result.arch).toMatch(NB201_ARCH);
    expect(await page.evaluate(() => (window as unknown as { __TENAS_APP__: { result: { data: string } } }).__TENAS_APP__.result.data)).toMatch(/12 of your images/);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('the app also works without cross-origin isolation (no SharedArrayBuffer)', async () => {
    const plain = await servePackage({ crossOriginIsolation: false });
    const page = await browser().newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    try {
      await page.goto(new URL(`app/?batch=8&repeats=1&patches=200&workers=1&backend=wasm&autostart=1`, plain.url).href, { waitUntil: 'load' });
      await waitForState(page, ['done', 'error', 'cancelled'], 90_000);
      expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(false);
      const result = await snapshot(page);
      expect(result.error).toBeUndefined();
      expect(result.arch).toMatch(NB201_ARCH);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await plain.close();
    }
  });

  // SwiftShader (Chromium's CPU implementation of WebGPU) needs seconds per candidate on a small
  // machine, so a whole search (54 candidates) does not fit in a test: this one checks that the app
  // runs the search on WebGPU, finishes a candidate without errors, and cancels cleanly.
  test('the app scores candidates on WebGPU (SwiftShader) and cancels', async (context) => {
    const { page, errors } = await openPage(`app/?${SHORT_SEARCH}&backend=webgpu&autostart=1`);
    await page.waitForFunction(
      () => ['done', 'error', 'cancelled'].includes(document.body.dataset.state ?? '') || Number((document.getElementById('progress') as HTMLProgressElement).value) >= 1,
      { timeout: 100_000, polling: 200 },
    );
    const result = await snapshot(page);
    if (result.state === 'error' && /not available in this build/.test(result.error ?? '')) {
      await page.close();
      context.skip(`the WebGPU backend is not in this build yet: ${result.error}`);
    }
    expect(result.error).toBeUndefined();
    const backendInfo = await page.$eval('#backend-info', (list) => list.textContent ?? '');
    expect(backendInfo).toMatch(/webgpu/);
    await saveScreenshot(page, 'app-webgpu.png');
    await page.click('#cancel');
    await waitForState(page, ['cancelled', 'done', 'error'], 60_000);
    expect(['cancelled', 'done']).toContain((await snapshot(page)).state);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('the benchmark page reports valid JSON through runBrowserBench; a software adapter is measured at a small batch', async () => {
    const report = await runBrowserBench({ chrome, runs: 1, timeoutMs: 300_000 });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(report.crossOriginIsolated).toBe(true);
    expect(report.userAgent).toMatch(/Chrome\//);
    expect(report.consoleErrors).toEqual([]);
    const wasm = report.results.find((result) => result.backend === 'wasm');
    expect(wasm?.available).toBe(true);
    if (wasm?.available) {
      expect(wasm.batch).toBe(72);
      expect(wasm.ntkPairSeconds).toBeGreaterThan(0);
      expect(wasm.lrPairSeconds).toBeGreaterThan(0);
      expect(wasm.gflops).toBeGreaterThan(0);
      expect(wasm.proxies).toBeUndefined();
    }
    const webgpu = report.results.find((result) => result.backend === 'webgpu');
    expect(webgpu).toBeDefined();
    if (webgpu && !webgpu.available) expect(webgpu.reason.length).toBeGreaterThan(0);
    if (webgpu?.available && webgpu.isFallbackAdapter) {
      expect(webgpu.batch).toBe(8);
      expect(webgpu.note).toMatch(/software \(fallback\) adapter: measured at NTK batch 8/);
      expect(formatBrowserBenchReport(report)).toMatch(/\nwebgpu .*NTK batch 8.*\[software \(fallback\) adapter/);
    }
    expect(formatBrowserBenchReport(report)).toMatch(/^browser: .*\nwasm .*NTK batch 72/);
  }, 300_000);

  test('the benchmark page profiles each pair and samples its kernel functions (JS Self-Profiling API)', async () => {
    const report = await runBrowserBench({ chrome, runs: 1, batch: 4, backends: ['wasm'], profile: true, timeoutMs: 300_000 });
    expect(report.consoleErrors).toEqual([]);
    const [wasm] = report.results;
    expect(wasm.available).toBe(true);
    if (!wasm.available) return;
    const profile = wasm.profile!;
    expect(profile.clock).toBe('wall');
    expect(profile.ntkPair.functions!.map((row) => row.name)).toEqual(expect.arrayContaining(['conv/correlate_sample_3x3', 'conv/weight_gradient_3x3']));
    const fused = profile.ntkPair.rows.find((row) => row.stage === 'conv' && row.pass === 'backward')!;
    expect(fused.parts!.products).toBeGreaterThan(0);
    expect(fused.parts!.products + fused.parts!.batchnorm + fused.parts!.pooling).toBeCloseTo(1, 9);
  }, 300_000);

  test('the benchmark page times every zero-cost proxy and all of them together, when asked', async () => {
    const report = await runBrowserBench({ chrome, runs: 1, batch: 4, backends: ['wasm'], proxies: { channels: 4, cells: 1, batch: 8 }, timeoutMs: 300_000 });
    expect(report.consoleErrors).toEqual([]);
    const [wasm] = report.results;
    expect(wasm.available).toBe(true);
    if (!wasm.available) return;
    // A row per registered proxy, all of them together, and the passes they are made of (with GFLOP/s).
    const proxies = wasm.proxies!;
    expect(proxies).toMatchObject({ channels: 4, cells: 1, batch: 8 });
    expect(proxies.proxies.map((row) => row.name)).toEqual(PROXY_INDICATORS.map((indicator) => indicator.name));
    for (const row of [proxies.forward, proxies.forwardBackward]) expect(row.gflops).toBeGreaterThan(0);
    expect(proxies.allTogether.seconds).toBeGreaterThan(0);
    expect(formatBrowserBenchReport(report)).toMatch(/zero-cost proxies on .*C = 4, N = 1, batch 8:\n {2}forward /);
  }, 300_000);
});

describe('browser-bench time limit', () => {
  test('keeps the backends that finished and marks the unfinished ones as timed out', () => {
    const finished = { available: false as const, backend: 'wasm' as const, reason: 'stand-in for a finished result' };
    const progress = {
      results: [finished],
      requested: ['wasm', 'webgpu'] as const,
      running: 'webgpu' as const,
      userAgent: 'HeadlessChrome/156',
      crossOriginIsolated: true,
      hardwareConcurrency: 2,
      settings: { space: 'nb201' as const, runs: 2, data: 'embedded' as const, proxies: false as const },
    };
    const outcome = withUnfinished(progress, 90_000);
    expect(outcome.results[0]).toEqual(finished);
    expect(outcome.results[1]).toEqual({ available: false, backend: 'webgpu', timedOut: true, reason: expect.stringMatching(/did not finish within the 90 s limit/) });
    expect('running' in outcome || 'requested' in outcome).toBe(false);
  });
});
