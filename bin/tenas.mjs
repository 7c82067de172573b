#!/usr/bin/env node
// The CLI lives in the bundle; this file only hands it the arguments and sets the exit code.
let cli;
try {
  cli = await import('../dist/node/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('cli.js')) throw error;
  process.stderr.write('tenas: internal error: dist/node/cli.js is missing; run `npm run build` in the package folder\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
