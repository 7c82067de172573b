import type { Indicator } from '../indicator.js';
import { azComplexityIndicator } from './az-complexity.js';
import { azExpressivityIndicator } from './az-expressivity.js';
import { azProgressivityIndicator } from './az-progressivity.js';
import { azTrainabilityIndicator } from './az-trainability.js';
import { fisherIndicator } from './fisher.js';
import { flopsIndicator } from './flops.js';
import { gradNormIndicator } from './grad-norm.js';
import { graspIndicator } from './grasp.js';
import { jacobCovIndicator } from './jacob-cov.js';
import { nwotIndicator } from './nwot.js';
import { paramsIndicator } from './params.js';
import { snipIndicator } from './snip.js';
import { synflowIndicator } from './synflow.js';
import { zenIndicator } from './zen.js';
import { zicoIndicator } from './zico.js';

/**
 * The zero-cost proxies (docs/proxies.md), each defined in its own file of this folder. They are
 * measured on the `eval` network and compared or combined with TE-NAS's κ and R.
 */
export const PROXY_INDICATORS: readonly Indicator[] = [
  nwotIndicator,
  synflowIndicator,
  snipIndicator,
  graspIndicator,
  gradNormIndicator,
  fisherIndicator,
  jacobCovIndicator,
  zenIndicator,
  zicoIndicator,
  paramsIndicator,
  flopsIndicator,
  azExpressivityIndicator,
  azProgressivityIndicator,
  azTrainabilityIndicator,
  azComplexityIndicator,
];
