/**
 * Settings given in the Evaluate page's URL, e.g.
 * `?indicators=nwot,synflow&sample=12&channels=8&cells=1&batch=16&backend=wasm&workers=2&autostart=1`,
 * for links to a prepared evaluation and for automated tests. Unknown or malformed values are reported.
 */
export interface EvaluateQuery {
  indicators?: string[];
  dataset?: string;
  backend?: string;
  sample?: number;
  seed?: number;
  channels?: number;
  cells?: number;
  batch?: number;
  workers?: number;
  autostart: boolean;
}

const NUMBERS = ['sample', 'seed', 'channels', 'cells', 'batch', 'workers'] as const;
const TEXTS = ['dataset', 'backend'] as const;

export function readEvaluateQuery(search: string): { query: EvaluateQuery; problems: string[] } {
  const params = new URLSearchParams(search);
  const query: EvaluateQuery = { autostart: false };
  const problems: string[] = [];
  for (const key of NUMBERS) {
    const value = params.get(key);
    if (value === null) continue;
    const number = Number(value);
    if (value.trim() !== '' && Number.isSafeInteger(number) && number >= 0) query[key] = number;
    else problems.push(`URL parameter ${key}=${value} is not a non-negative integer`);
  }
  for (const key of TEXTS) {
    const value = params.get(key);
    if (value !== null) query[key] = value;
  }
  const indicators = params.get('indicators');
  if (indicators !== null) query.indicators = indicators.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const autostart = params.get('autostart');
  query.autostart = autostart === '1' || autostart === 'true';
  for (const key of params.keys()) {
    if (!(NUMBERS as readonly string[]).includes(key) && !(TEXTS as readonly string[]).includes(key) && key !== 'indicators' && key !== 'autostart') {
      problems.push(`unknown URL parameter '${key}'`);
    }
  }
  return { query, problems };
}
