/** The browser build's stand-in for `relaxed-simd.ts`: a browser's features cannot be switched on from a page. */
export function enableRelaxedSimd(): void {}
