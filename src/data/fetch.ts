import { env } from '../env.js';
import { TenasInputError } from '../errors.js';
import { parseNb201Table, NB201_TABLE_PATH, type Nb201Table } from '../spaces/nb201/table.js';
import type { ImageSet } from './cifar.js';
import { EMBEDDED_CIFAR_PATH, parseEmbeddedCifar } from './embedded.js';

/**
 * Fetches one file of the package's `data/` folder (`packagePath`, e.g. `data/nb201/x.csv`) from
 * `url`, else from `env.dataUrl`; the errors name the URL tried and how to serve the file.
 */
async function fetchDataFile(packagePath: string, what: string, url: URL | string | undefined): Promise<Response> {
  const servedAs = `tenas-web/${packagePath} (node_modules/tenas-web/${packagePath})`;
  if (url === undefined && env.dataUrl === undefined) {
    throw new TenasInputError(`no URL for ${what}: pass the URL your app serves ${servedAs} at, or set env.dataUrl to where it serves node_modules/tenas-web/data/`);
  }
  const target = url === undefined ? new URL(packagePath.replace(/^data\//, ''), absoluteUrl(env.dataUrl!, 'env.dataUrl')) : absoluteUrl(url, `the URL of ${what}`);
  const fix = `serve ${servedAs} at that URL, or ${url === undefined ? 'set env.dataUrl to the folder that holds it' : 'pass the URL it is served at'}`;
  let response: Response;
  try {
    response = await fetch(target);
  } catch (error) {
    throw new TenasInputError(`could not fetch ${what} from ${target.href} (${(error as Error).message}): ${fix}`);
  }
  if (!response.ok) throw new TenasInputError(`could not fetch ${what} from ${target.href} (HTTP ${response.status}): ${fix}`);
  return response;
}

/** `url` resolved against the page (a relative URL in Node, where there is no page, is an error). */
function absoluteUrl(url: URL | string, name: string): URL {
  try {
    return new URL(url, (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    throw new TenasInputError(`${name} (${String(url)}) is not a valid URL; outside a page it must be absolute (http://…)`);
  }
}

/** The embedded CIFAR-10 test images 0–999, fetched from `url` or from `env.dataUrl` (browsers, or Node over HTTP). */
export async function fetchEmbeddedCifar(url?: URL | string): Promise<ImageSet> {
  const response = await fetchDataFile(EMBEDDED_CIFAR_PATH, 'the embedded CIFAR-10 images', url);
  return parseEmbeddedCifar(new Uint8Array(await response.arrayBuffer()));
}

/** The NAS-Bench-201 accuracy table, fetched from `url` or from `env.dataUrl`. */
export async function fetchNb201Table(url?: URL | string): Promise<Nb201Table> {
  const response = await fetchDataFile(NB201_TABLE_PATH, 'the NAS-Bench-201 table', url);
  return parseNb201Table(await response.text());
}
