/**
 * The optional peer dependencies (`peerDependencies` in package.json, checked by test/package.test.ts),
 * as the install commands that the errors for a missing one print.
 */
export const OPTIONAL_PACKAGES = {
  /** Dawn: WebGPU in Node (`--backend webgpu|auto`). */
  webgpu: 'webgpu@0.6.2',
  /** Drives headless Chromium for `tenas browser-bench`. */
  puppeteer: 'puppeteer-core@24.43.1',
} as const;

/** Whether `error` (from a dynamic import) says that the package itself is not installed. */
export function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`);
}
