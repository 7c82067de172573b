/**
 * The web pages served from the package (`servePackage`, after building them) and opened in one
 * headless Chromium per test file, for the tests that drive the app and the Evaluate page.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium, type LaunchedChromium } from '../../src/browser-bench/chromium.js';
import { servePackage, type RunningServer } from '../../src/server/serve.js';

const root = join(import.meta.dirname, '..', '..');

export interface ServedPages {
  /** Opens a served page; `errors` collects its console errors and uncaught exceptions. */
  openPage(path: string): Promise<{ page: Page; errors: string[] }>;
  browser(): Browser;
}

/**
 * Registers the build, the server and Chromium around the calling `describe`. With
 * `captureDownloads`, a page's downloads (an `<a download>` click on a blob URL) land in
 * `window.__DOWNLOADS__` as `{ name, text }` instead of the file system.
 */
export function useServedPages(chrome: string | undefined, options: { captureDownloads?: boolean } = {}): ServedPages {
  let server: RunningServer;
  let chromium: LaunchedChromium;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(root, 'scripts', 'build-web.mjs')], { cwd: root, stdio: 'pipe' });
    server = await servePackage();
    chromium = await launchChromium({ chrome });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
  });

  return {
    browser: () => chromium.browser,
    async openPage(path) {
      const page = await chromium.browser.newPage();
      await page.setViewport({ width: 1400, height: 1000 });
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(String(error)));
      if (options.captureDownloads) await page.evaluateOnNewDocument(captureDownloads);
      await page.goto(new URL(path, server.url).href, { waitUntil: 'load' });
      return { page, errors };
    },
  };
}

/** Runs in the page before its scripts. */
function captureDownloads(): void {
  const downloads: { name: string; text: string }[] = [];
  (window as unknown as { __DOWNLOADS__: typeof downloads }).__DOWNLOADS__ = downloads;
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
    if (this.download) {
      const name = this.download;
      void fetch(this.href)
        .then((response) => response.text())
        .then((text) => downloads.push({ name, text }));
      return;
    }
    click.call(this);
  };
}

/** Waits until the page's `body[data-state]` is one of `states`. */
export async function waitForState(page: Page, states: readonly string[], timeout: number): Promise<void> {
  await page.waitForFunction((wanted: readonly string[]) => wanted.includes(document.body.dataset.state ?? ''), { timeout, polling: 200 }, states);
}
