import type { Indicator } from './indicator.js';
import { ntkIndicator } from './ntk.js';
import { regionsIndicator } from './regions.js';

/**
 * The indicators a search measures, in ranking order (the first one's sort order breaks rank-sum
 * ties). Adding an indicator is one file in `metrics/` and one entry here.
 */
export const INDICATORS = [ntkIndicator, regionsIndicator] as const satisfies readonly Indicator[];

type IndicatorKey = (typeof INDICATORS)[number]['key'];

/** Per-repeat values of every indicator for the origin and the candidate network: `kappaOrigin`, ... */
export type IndicatorMeasurements = { readonly [K in IndicatorKey as `${K}Origin` | `${K}Candidate`]: number[] };

/** Each indicator's mean rounded delta and its rank in the round: `deltaKappa`, `rankKappa`, ... */
export type IndicatorRanks = { readonly [K in IndicatorKey as `delta${Capitalize<K>}` | `rank${Capitalize<K>}`]: number };

/** One number per indicator, keyed by its record stem: `{ kappa, regions }`. */
export type IndicatorValues = { readonly [K in IndicatorKey]: number };

/** Several numbers per indicator (e.g. its repeats), keyed by its record stem. */
export type IndicatorSeries = { readonly [K in IndicatorKey]: number[] };

const capitalised = (key: string) => key[0].toUpperCase() + key.slice(1);

/** Record field names of an indicator. */
export function indicatorFields(indicator: Indicator): { origin: string; candidate: string; delta: string; rank: string } {
  return { origin: `${indicator.key}Origin`, candidate: `${indicator.key}Candidate`, delta: `delta${capitalised(indicator.key)}`, rank: `rank${capitalised(indicator.key)}` };
}

/** Reads an indicator's field of a record typed by the mapped types above. */
export function field<T>(record: object, name: string): T {
  return (record as Record<string, T>)[name];
}
