/**
 * Finding and launching a headless Chromium through puppeteer-core (which never downloads a
 * browser: it drives the one installed on the system).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { TenasInputError } from '../errors.js';
import { isMissingPackage, OPTIONAL_PACKAGES } from '../optional-packages.js';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'] as const;

/**
 * The browser to drive: `explicit` (the `--chrome` option), else `CHROME_PATH`, else the first of the
 * usual system paths that exists; undefined when there is none.
 */
export function findChromium(explicit?: string): string | undefined {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new TenasInputError(`the browser given by --chrome does not exist: ${explicit}`);
    return explicit;
  }
  const fromEnvironment = process.env.CHROME_PATH;
  if (fromEnvironment) {
    if (!existsSync(fromEnvironment)) throw new TenasInputError(`CHROME_PATH names a browser that does not exist: ${fromEnvironment}`);
    return fromEnvironment;
  }
  return CHROMIUM_CANDIDATES.find((path) => existsSync(path));
}

export function requireChromium(explicit?: string): string {
  const found = findChromium(explicit);
  if (found === undefined) {
    throw new TenasInputError(
      `no Chromium or Chrome found (looked for ${CHROMIUM_CANDIDATES.join(', ')} and CHROME_PATH); ` +
        'install one with `apt-get install -y chromium`, or pass --chrome PATH',
    );
  }
  return found;
}

export interface LaunchedChromium {
  readonly browser: Browser;
  /** Closes the browser and removes its fresh profile folder; safe to call twice. */
  close(): Promise<void>;
}

async function loadPuppeteer(): Promise<typeof import('puppeteer-core')> {
  try {
    return await import('puppeteer-core');
  } catch (error) {
    if (!isMissingPackage(error, 'puppeteer-core')) throw error;
    throw new TenasInputError(`driving Chromium needs the optional package puppeteer-core, which is not installed: npm install ${OPTIONAL_PACKAGES.puppeteer}`);
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Headless Chromium with WebGPU enabled (SwiftShader where there is no GPU), no background traffic,
 * and a fresh profile in a temporary folder; TENAS_CHROMIUM_FLAGS adds flags (space-separated).
 */
export async function launchChromium(options: { chrome?: string; timeoutMs?: number } = {}): Promise<LaunchedChromium> {
  const puppeteer = await loadPuppeteer();
  const executablePath = requireChromium(options.chrome);
  const userDataDir = await mkdtemp(join(tmpdir(), 'tenas-chromium-'));
  // `headless: true` below makes Puppeteer pass --headless=new; a --user-data-dir in `args` stops it
  // from creating a profile folder of its own.
  const args = [
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    `--user-data-dir=${userDataDir}`,
    ...(isRoot() ? ['--no-sandbox'] : []),
    // e.g. the flags that give headless Chromium a real GPU on Linux (see `npm run device-check`).
    ...(process.env.TENAS_CHROMIUM_FLAGS ?? '').split(/\s+/).filter(Boolean),
  ];
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath,
      headless: true,
      args,
      // Ctrl-C is the caller's (an AbortSignal): it closes the browser, the server and the profile folder.
      handleSIGINT: false,
      timeout: options.timeoutMs ?? 60_000,
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw new TenasInputError(`could not start ${executablePath}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let closed = false;
  return {
    browser,
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await browser.close();
      } finally {
        await rm(userDataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
      }
    },
  };
}
