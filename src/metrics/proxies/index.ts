import type { Indicator } from '../indicator.js';
import { azExpressivityIndicator } from './az-expressivity.js';
import { azProgressivityIndicator } from './az-progressivity.js';
import { azTrainabilityIndicator } from './az-trainability.js';
import { fisherIndicator } from './fisher.js';

/**
 * The zero-cost proxies (docs/proxies.md), each defined in its own file of this folder. They are
 * measured on the `eval` network and compared or combined with TE-NAS's κ and R.
 */
export const PROXY_INDICATORS: readonly Indicator[] = [fisherIndicator, azExpressivityIndicator, azProgressivityIndicator, azTrainabilityIndicator];
