import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TenasInputError } from '../errors.js';

const rootCache = new Map<string, string>();

/**
 * The package root: the nearest directory above this module that contains `marker` (a path relative to the
 * root, e.g. `data/nb201`). Works from `src/data/` (vitest) and from bundles in `dist/node/`.
 */
export function findPackageRoot(marker: string): string {
  const cached = rootCache.get(marker);
  if (cached !== undefined) return cached;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, marker))) {
      rootCache.set(marker, dir);
      return dir;
    }
    if (dirname(dir) === dir) break;
  }
  throw new TenasInputError(
    `cannot find the package's ${marker} folder in ${start} or any folder above it; reinstall tenas-web (the npm package ships it)`,
  );
}

/** Absolute path of a file shipped with the package, e.g. `packageDataPath('data/nb201/x.csv')`. */
export function packageDataPath(relativePath: string): string {
  const marker = dirname(relativePath);
  return resolve(findPackageRoot(marker), relativePath);
}
