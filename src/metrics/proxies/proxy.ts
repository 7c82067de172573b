import type { Indicator } from '../indicator.js';

type ProxyFields<Key extends string> = Pick<Indicator<Key>, 'name' | 'key' | 'symbol' | 'title' | 'measure'> & Partial<Pick<Indicator<Key>, 'data' | 'needsLabels'>>;

/**
 * A zero-cost proxy as an indicator: higher is better (every proxy is stored that way, signs
 * included), any finite value is valid, measured on the samples unless it says otherwise.
 */
export function proxyIndicator<Key extends string>(fields: ProxyFields<Key>): Indicator<Key> {
  return {
    network: 'eval',
    data: 'samples',
    higherIsBetter: true,
    // Proxies have no released rounding to reproduce (TE-NAS rounds its deltas to decide ties); deltas stay exact.
    roundDelta: (delta) => delta,
    invalidMean: (value) => (Number.isFinite(value) || value === -Infinity ? undefined : 'a finite number or -Infinity (a network without signal)'),
    ...fields,
  };
}
