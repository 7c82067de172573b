// Replaced by the package.json version when esbuild bundles the CLI (`define` in esbuild.config.mjs).
declare const __TENAS_VERSION__: string | undefined;

export const VERSION: string = typeof __TENAS_VERSION__ === 'string' ? __TENAS_VERSION__ : '0.0.0-dev';
