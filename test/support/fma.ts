import { fmaKernelsUnavailable } from '../../src/engine/wasm/module.js';

/** Why the fused multiply-add kernels cannot run on this machine, or undefined when they can. */
export const fmaUnavailable = await fmaKernelsUnavailable();

/** A describe title for the fused multiply-add kernels, saying why it is skipped where it is. */
export const fmaTitle = (title: string): string => `${title}${fmaUnavailable ? ` (skipped: ${fmaUnavailable})` : ''}`;
