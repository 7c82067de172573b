// An esbuild plugin for the browser builds: a relative import of `X.js` whose sibling `X.browser.ts`
// exists resolves to that file, so that Node-only modules (Dawn, node:* built-ins) stay out of
// browser bundles, as a package's `browser` field would do.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const browserVariants = {
  name: 'tenas-browser-variants',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, ({ path, resolveDir }) => {
      const variant = join(resolveDir, path.replace(/\.js$/, '.browser.ts'));
      return existsSync(variant) ? { path: variant } : undefined;
    });
  },
};
