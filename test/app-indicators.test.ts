/**
 * Indicators in the web app, in real headless Chromium (puppeteer-core): a search driven by chosen
 * indicators and AZ-NAS's aggregation, and the Evaluate page (a small seeded sample scored in module
 * workers with the real WebAssembly kernels, the τ/ρ table, the scatter plots and the exports,
 * checked against the same scoring run in Node: `tenas correlate`'s code path).
 */
import type { Page } from 'puppeteer-core';
import { describe, expect, test } from 'vitest';
import { findChromium } from '../src/browser-bench/chromium.js';
import { loadEmbeddedCifar } from '../src/data/embedded.js';
import { createBackend } from '../src/engine/create.js';
import { ArchScorer } from '../src/evaluation/arch-scorer.js';
import { selectArchs } from '../src/evaluation/selection.js';
import { LinearAlgebra } from '../src/metrics/linalg.js';
import { resolveIndicators } from '../src/metrics/registry.js';
import { parseNb201Mask } from '../src/spaces/nb201/arch.js';
import { evaluationSettings, type EvaluationRequest } from '../src/web/evaluate/report.js';
import { useServedPages, waitForState } from './support/served-pages.js';

const chrome = findChromium();
/** The indicators of the app's search test: two zero-cost proxies, combined by AZ-NAS's aggregation. */
const SEARCH_INDICATORS = ['nwot', 'synflow'];
/** The Evaluate test's indicators: TE-NAS's two and proxies of every kind (activations, float64 host passes, a loss with labels). */
const EVALUATE_INDICATORS = ['ntk', 'regions', 'nwot', 'synflow', 'snip'];

interface Download {
  name: string;
  text: string;
}

async function downloadOf(page: Page, button: string, extension: string): Promise<Download> {
  await page.click(button);
  const handle = await page.waitForFunction(
    (suffix: string) => (window as unknown as { __DOWNLOADS__: Download[] }).__DOWNLOADS__.find((download) => download.name.endsWith(suffix)),
    { timeout: 10_000 },
    extension,
  );
  return (await handle.jsonValue()) as Download;
}

describe.skipIf(!chrome)(chrome ? 'indicators in the app, in headless Chromium' : 'indicators in the app (SKIPPED: no Chromium binary found; apt-get install -y chromium or set CHROME_PATH)', () => {
  const { openPage } = useServedPages(chrome, { captureDownloads: true });

  test('the search app runs a search on chosen indicators combined by AZ-NAS, in a module worker', async () => {
    const indicators = SEARCH_INDICATORS;
    const { page, errors } = await openPage(`app/?batch=8&repeats=1&patches=200&workers=1&backend=wasm&indicators=${indicators.join(',')}&combine=az&autostart=1`);
    await waitForState(page, ['done', 'error', 'cancelled'], 180_000);
    const app = await page.evaluate(() => {
      const handle = (window as unknown as { __TENAS_APP__: { state: string; error?: string; result?: { arch: string; settings: { indicators: string[]; combine: string } } } }).__TENAS_APP__;
      return { state: handle.state, error: handle.error, arch: handle.result?.arch ?? '', settings: handle.result?.settings };
    });
    expect(app.error).toBeUndefined();
    expect(app.state).toBe('done');
    expect(app.settings).toMatchObject({ indicators, combine: 'az' });
    expect(parseNb201Mask(app.arch).every((edge) => edge.filter(Boolean).length === 1)).toBe(true);
    const ticked = await page.$$eval('#indicator-list input:checked', (boxes) => boxes.map((box) => (box as HTMLInputElement).value));
    expect(ticked).toEqual(indicators);
    const headers = await page.$$eval('#round-table thead th', (cells) => cells.map((cell) => cell.textContent ?? ''));
    expect(headers).toContain('Σ ln(rank/n)');
    expect(await page.$$eval('#round-table tr.pruned', (rows) => rows.length)).toBe(6);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('scores a seeded sample in module workers on WebAssembly, shows τ/ρ and scatter plots, and exports them', async () => {
    const request: EvaluationRequest = { indicators: EVALUATE_INDICATORS, sample: 5, seed: 3, dataset: 'cifar10', channels: 8, cells: 1, batch: 8 };
    const query = `indicators=${request.indicators.join(',')}&sample=${request.sample}&seed=${request.seed}&channels=${request.channels}&cells=${request.cells}&batch=${request.batch}`;
    const { page, errors } = await openPage(`evaluate/?${query}&backend=wasm&workers=2&autostart=1`);
    await waitForState(page, ['done', 'error', 'cancelled'], 180_000);
    const handle = await page.evaluate(() => {
      const evaluate = window.__TENAS_EVALUATE__!;
      return { state: evaluate.state, error: evaluate.error, rows: evaluate.outcome?.rows ?? [] };
    });
    expect(handle.error).toBeUndefined();
    expect(handle.state).toBe('done');

    // The rows are the ones Node scores for the same archs and settings: same code, same kernels.
    const archs = selectArchs({ sample: request.sample, seed: request.seed });
    expect(handle.rows.map((row) => row.archIndex)).toEqual(archs.map((arch) => arch.archIndex));
    const [backend, linalg, images] = await Promise.all([createBackend('wasm'), LinearAlgebra.create(), loadEmbeddedCifar()]);
    const scorer = new ArchScorer(backend, linalg, evaluationSettings(request), images);
    for (const [position, arch] of archs.slice(0, 2).entries()) {
      const { values } = await scorer.score(arch);
      for (const [key, value] of Object.entries(values)) expect(handle.rows[position][key]).toBe(value);
    }
    backend.dispose();

    const table = await page.$$eval('#correlation tbody tr', (rows) =>
      rows.map((row) => ({ score: row.getAttribute('data-score'), tau: row.querySelector('.tau')?.textContent ?? '', rho: row.querySelector('.rho')?.textContent ?? '' })),
    );
    expect(table.map((row) => row.score)).toEqual([...resolveIndicators(EVALUATE_INDICATORS).map((indicator) => indicator.key), 'combined']);
    for (const row of table) {
      expect(row.tau).toMatch(/^(-?\d\.\d{3}|n\/a)$/);
      expect(row.rho).toMatch(/^(-?\d\.\d{3}|n\/a)$/);
    }
    expect(table.filter((row) => row.tau !== 'n/a').length).toBeGreaterThan(0);
    const panels = await page.$$eval('#scatter svg > rect[stroke]', (rects) => rects.length);
    expect(panels).toBe(EVALUATE_INDICATORS.length);
    expect(await page.$$eval('#scatter circle', (circles) => circles.length)).toBeGreaterThan(request.sample);

    const csv = await downloadOf(page, '#download-csv', '.csv');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toMatch(/^arch_index,arch,/);
    expect(lines).toHaveLength(request.sample + 1);
    const json = JSON.parse((await downloadOf(page, '#download-json', '.json')).text);
    expect(json.rows).toHaveLength(request.sample);
    expect(json.report.archs).toBe(request.sample);
    expect((await downloadOf(page, '#download-svg', '.svg')).text).toMatch(/^<svg /);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('scores on WebGPU (SwiftShader) in a module worker, agreeing with WebAssembly', async () => {
    const query = 'indicators=nwot,grad_norm,params&sample=3&seed=1&channels=4&cells=1&batch=8';
    const runs = [];
    for (const backend of ['wasm', 'webgpu']) {
      const { page, errors } = await openPage(`evaluate/?${query}&backend=${backend}&workers=1&autostart=1`);
      await waitForState(page, ['done', 'error', 'cancelled'], 240_000);
      const outcome = await page.evaluate(() => ({ error: window.__TENAS_EVALUATE__!.error, rows: window.__TENAS_EVALUATE__!.outcome?.rows ?? [] }));
      expect(outcome.error).toBeUndefined();
      expect(await page.$eval('#backend-info', (list) => list.textContent ?? '')).toContain(backend);
      expect(errors).toEqual([]);
      runs.push(outcome.rows);
      await page.close();
    }
    const [wasm, webgpu] = runs;
    expect(webgpu.map((row) => row.backend)).toEqual(['webgpu', 'webgpu', 'webgpu']);
    for (const [i, row] of wasm.entries()) {
      for (const key of ['nwot', 'gradNorm', 'params']) expect(Math.abs((webgpu[i][key] as number) - (row[key] as number))).toBeLessThanOrEqual(1e-3 * Math.abs(row[key] as number));
    }
  });

  test("reports AZ-NAS's aggregation when its four proxies are chosen", async () => {
    const { page, errors } = await openPage('evaluate/?indicators=az_expressivity,az_progressivity,az_trainability,az_complexity&sample=4&seed=2&channels=4&cells=1&batch=8&backend=wasm&workers=1&autostart=1');
    await waitForState(page, ['done', 'error', 'cancelled'], 120_000);
    expect(await page.evaluate(() => window.__TENAS_EVALUATE__!.error)).toBeUndefined();
    const scores = await page.$$eval('#correlation tbody tr', (rows) => rows.map((row) => row.getAttribute('data-score')));
    expect(scores).toEqual(['azExpressivity', 'azProgressivity', 'azTrainability', 'azComplexity', 'az']);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('the same sample scored on the page thread gives the same rows; Cancel stops a run', async () => {
    const { page, errors } = await openPage(`evaluate/?indicators=ntk&sample=3&seed=3&channels=8&cells=1&batch=8&backend=wasm&workers=0&autostart=1`);
    await waitForState(page, ['done', 'error', 'cancelled'], 120_000);
    expect(await page.evaluate(() => window.__TENAS_EVALUATE__!.error)).toBeUndefined();
    const rows = await page.evaluate(() => window.__TENAS_EVALUATE__!.outcome!.rows.map((row) => row.archIndex));
    expect(rows).toEqual(selectArchs({ sample: 3, seed: 3 }).map((arch) => arch.archIndex));

    await page.$eval('#sample', (input) => ((input as HTMLInputElement).value = '400'));
    await page.$eval('#workers', (input) => ((input as HTMLInputElement).value = '1'));
    await page.click('#start');
    await page.waitForFunction(() => Number((document.getElementById('progress') as HTMLProgressElement).value) >= 1, { timeout: 60_000, polling: 100 });
    await page.click('#cancel');
    await waitForState(page, ['cancelled', 'done', 'error'], 30_000);
    expect(await page.evaluate(() => window.__TENAS_EVALUATE__!.state)).toBe('cancelled');
    expect(await page.$eval('#start', (button) => (button as HTMLButtonElement).disabled)).toBe(false);
    expect(errors).toEqual([]);
    await page.close();
  });
});
