import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Engine code imports `.wgsl` shaders as text and the AssemblyScript module as bytes, exactly as
// the esbuild bundles do (loaders `text` and `binary`).
export default defineConfig({
  plugins: [
    {
      name: 'tenas-assets',
      enforce: 'pre',
      load(id) {
        if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
        if (id.endsWith('.wasm')) {
          const base64 = readFileSync(id).toString('base64');
          return `export default Uint8Array.from(atob(${JSON.stringify(base64)}), (c) => c.charCodeAt(0));`;
        }
        return undefined;
      },
    },
  ],
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
