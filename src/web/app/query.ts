import { BACKEND_NAMES, type BackendName } from '../../engine/backend.js';
import { SPACE_NAMES, type SpaceName } from '../../spaces/index.js';

/**
 * Settings given in the page's URL, e.g. `?space=nb201&batch=8&repeats=1&patches=200&backend=wasm&autostart=1`,
 * for links to a prepared search and for automated tests. Unknown or malformed values are reported.
 */
export interface QuerySettings {
  space?: SpaceName;
  protocol?: 'reference' | 'paper';
  backend?: BackendName | 'auto';
  batch?: number;
  repeats?: number;
  patches?: number;
  seed?: number;
  workers?: number;
  /** Registry names, checked by the page against its registry. */
  indicators?: string[];
  combine?: 'ranksum' | 'az';
  autostart: boolean;
}

const CHOICES = {
  space: SPACE_NAMES,
  protocol: ['reference', 'paper'],
  backend: [...BACKEND_NAMES, 'auto'],
  combine: ['ranksum', 'az'],
} as const;

const NUMBERS = ['batch', 'repeats', 'patches', 'seed', 'workers'] as const;

export function readQuery(search: string): { settings: QuerySettings; problems: string[] } {
  const params = new URLSearchParams(search);
  const settings: QuerySettings = { autostart: false };
  const problems: string[] = [];
  for (const key of Object.keys(CHOICES) as (keyof typeof CHOICES)[]) {
    const value = params.get(key);
    if (value === null) continue;
    const allowed: readonly string[] = CHOICES[key];
    if (allowed.includes(value)) (settings as unknown as Record<string, string>)[key] = value;
    else problems.push(`URL parameter ${key}=${value} is not one of ${allowed.join(', ')}`);
  }
  for (const key of NUMBERS) {
    const value = params.get(key);
    if (value === null) continue;
    const number = Number(value);
    if (value.trim() !== '' && Number.isSafeInteger(number) && number >= 0) settings[key] = number;
    else problems.push(`URL parameter ${key}=${value} is not a non-negative integer`);
  }
  const indicators = params.get('indicators');
  if (indicators !== null) settings.indicators = indicators.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const autostart = params.get('autostart');
  settings.autostart = autostart === '1' || autostart === 'true';
  for (const key of params.keys()) {
    if (!(key in CHOICES) && !(NUMBERS as readonly string[]).includes(key) && key !== 'autostart' && key !== 'indicators') problems.push(`unknown URL parameter '${key}'`);
  }
  return { settings, problems };
}
