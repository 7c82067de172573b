// Builds the WebAssembly module and the bundles when they are missing or older than their sources,
// so `npm start` and `npm test` work straight after cloning.
import { execSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(join(root, path)).mtimeMs);
  }
  return newest;
}

function stale(output, sources) {
  const target = join(root, output);
  if (!existsSync(target)) return true;
  const built = statSync(target).mtimeMs;
  return sources.some((dir) => newestMtime(dir) > built);
}

const run = (command) => execSync(command, { cwd: root, stdio: 'inherit' });

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) run('npm ci --no-audit --no-fund');
if (stale('build/tenas.wasm', ['assembly'])) run('npm run --silent build:wasm');
if (stale('dist/node/cli.js', ['src', 'shaders', 'assembly'])) run('npm run --silent build:js');
