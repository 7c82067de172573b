// Checks the built package before it is packed (`npm run check:package`, run by `prepack`): every
// file package.json points at exists, no source maps ship, the browser bundles hold no Node built-in
// and the browser worker no top-level await (esbuild re-bundles them for a browser, the worker as a
// classic script), and the declarations typecheck on their own: the browser typings with only the
// DOM library, the Node typings with @types/node, both with skipLibCheck off (TypeScript's own
// lib files aside).
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const problems = [];

function targets(value) {
  if (typeof value === 'string') return [value];
  return Object.values(value).flatMap(targets);
}

const pointedAt = [packageJson.main, packageJson.types, ...Object.values(packageJson.bin), ...targets(packageJson.exports)];
for (const target of pointedAt) {
  const path = join(root, target.replace(/\*$/, ''));
  if (!existsSync(path)) problems.push(`package.json points at ${target}, which does not exist`);
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}
for (const file of filesUnder(join(root, 'dist'))) {
  if (file.endsWith('.map')) problems.push(`${file} is a source map; the package ships none`);
}

for (const [entry, format] of [['dist/browser/index.js', 'esm'], ['dist/browser/worker.js', 'iife']]) {
  try {
    await build({ absWorkingDir: root, entryPoints: [entry], bundle: true, write: false, platform: 'browser', format, logLevel: 'silent' });
  } catch (error) {
    problems.push(`${entry} does not bundle for a browser as ${format}: ${error.errors.map((e) => e.text).join('; ')}`);
  }
}

const typings = [
  { file: 'dist/types/browser.d.ts', lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] },
  { file: 'dist/types/index.d.ts', lib: ['lib.es2022.d.ts'], types: ['node'] },
];
for (const { file, lib, types } of typings) {
  const program = ts.createProgram([join(root, file)], {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    skipDefaultLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib,
    types,
  });
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const where = diagnostic.file ? `${diagnostic.file.fileName.replace(`${root}/`, '')}: ` : '';
    problems.push(`${file}: ${where}${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
  }
}

if (problems.length > 0) {
  console.error(`check-package: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('check-package: the package is complete, browser-clean and its typings check');
