import { TenasInputError } from '../errors.js';
import type { Indicator } from './indicator.js';
import { INDICATORS } from './indicators.js';
import { PROXY_INDICATORS } from './proxies/index.js';

/** Every indicator by its registry name: TE-NAS's `ntk` and `regions`, then the zero-cost proxies. */
export const ALL_INDICATORS: readonly Indicator[] = [...INDICATORS, ...PROXY_INDICATORS];

/** TE-NAS's indicators, the default of a search and of `correlate`. */
export const DEFAULT_INDICATOR_NAMES: readonly string[] = INDICATORS.map((indicator) => indicator.name);

export function indicatorNames(): string[] {
  return ALL_INDICATORS.map((indicator) => indicator.name);
}

export function indicatorByName(name: string, option = '--indicators'): Indicator {
  const indicator = ALL_INDICATORS.find((candidate) => candidate.name === name);
  if (indicator === undefined) {
    throw new TenasInputError(`${option}: unknown indicator '${name.slice(0, 200)}'; the indicators are ${indicatorNames().join(', ')} (or all)`);
  }
  return indicator;
}

/** The indicators of a list of names, in registry order, each once (an unknown name is an error listing the valid ones). */
export function resolveIndicators(names: readonly string[], option = '--indicators'): Indicator[] {
  if (names.length === 0) throw new TenasInputError(`${option} names no indicator; name one or more of ${indicatorNames().join(', ')}, or all`);
  const seen = new Set<string>();
  for (const name of names) {
    indicatorByName(name, option);
    if (seen.has(name)) throw new TenasInputError(`${option} names ${name} twice; name each indicator once`);
    seen.add(name);
  }
  return ALL_INDICATORS.filter((indicator) => seen.has(indicator.name));
}

/** Parses `LIST|all` (comma-separated names) into registry names, in registry order. */
export function parseIndicatorList(text: string, option = '--indicators'): string[] {
  if (text.trim() === 'all') return indicatorNames();
  return resolveIndicators(text.split(',').map((name) => name.trim()), option).map((indicator) => indicator.name);
}
