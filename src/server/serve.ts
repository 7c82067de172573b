/**
 * A small static file server for the web pages (`tenas serve`, the browser benchmark and its tests).
 *
 * Every response is cross-origin isolated (COOP same-origin + COEP require-corp), so pages get
 * `SharedArrayBuffer` and high-resolution timers; files are served with CORP same-origin, which
 * COEP requires of every subresource. Only GET and HEAD are answered.
 *
 * URL layout: a request path is looked up under the first mount whose prefix it starts with
 * (`/data/` → the package's `data/` folder by default), else under `root` (`dist/web`). A path that
 * tries to leave its folder — `..` segments, in any percent-encoding, backslashes, NUL bytes, or a
 * symbolic link pointing outside — is refused with 403; bodies never name server-side paths.
 */
import { createReadStream, existsSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { TenasInputError } from '../errors.js';
import { findPackageRoot } from '../data/package-root.js';

export interface ServerMount {
  /** URL prefix with leading and trailing slash, e.g. `/data/`. */
  readonly prefix: string;
  /** The folder that answers for it. */
  readonly directory: string;
}

export interface ServerOptions {
  /** The folder served at `/`. */
  readonly root: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Default `127.0.0.1`: reachable from this machine only. */
  readonly host?: string;
  /** Further folders served under URL prefixes; they take precedence over `root`. */
  readonly mounts?: readonly ServerMount[];
  /**
   * Default true: send COOP/COEP so pages are cross-origin isolated. False serves the same files
   * without them, to check that pages also work where a host cannot set these headers.
   */
  readonly crossOriginIsolation?: boolean;
}

export interface RunningServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  close(): Promise<void>;
}

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
};

const COMMON_HEADERS = {
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
  // Lets the benchmark page's profile sample the kernels with Chromium's JS Self-Profiling API.
  'Document-Policy': 'js-profiling',
} as const;

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/** Why a request is not answered with a file (the body is this short message, never a path). */
export class RequestRefusal {
  constructor(
    readonly status: 400 | 403 | 404,
    readonly message: string,
  ) {}
}

const FORBIDDEN = new RequestRefusal(403, 'forbidden');
const NOT_FOUND = new RequestRefusal(404, 'not found');

function normaliseMountPrefix(prefix: string): string {
  if (!/^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/$/.test(prefix)) {
    throw new TenasInputError(`server mount prefix '${prefix}' must look like '/name/' (letters, digits, '.', '_', '-')`);
  }
  return prefix;
}

/**
 * Turns the raw request target into path segments below some folder, or refuses it. The raw
 * target is checked before and after one round of percent-decoding; anything that still contains
 * `%` after decoding was encoded twice and is refused rather than decoded again.
 */
export function requestSegments(rawTarget: string): string[] | RequestRefusal {
  if (!rawTarget.startsWith('/')) return new RequestRefusal(400, 'bad request');
  const rawPath = rawTarget.split(/[?#]/, 1)[0];
  if (rawPath.includes('\\') || rawPath.includes('\0')) return FORBIDDEN;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return new RequestRefusal(400, 'bad request');
  }
  if (decoded.includes('%') || decoded.includes('\\') || decoded.includes('\0')) return FORBIDDEN;
  const segments = decoded.split('/').slice(1);
  // An encoded slash (%2f) would otherwise join two segments into one that hides a `..`.
  const rawSegments = rawPath.split('/').slice(1);
  if (rawSegments.length !== segments.length) return FORBIDDEN;
  for (const segment of segments) {
    if (segment === '..' || segment === '.') return FORBIDDEN;
    // Dotfiles (.git, .env) are never part of the pages.
    if (segment.startsWith('.')) return NOT_FOUND;
  }
  return segments;
}

function isInside(folder: string, path: string): boolean {
  return path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

interface ResolvedFile {
  readonly path: string;
  readonly stats: Stats;
}

async function resolveFile(folder: string, segments: readonly string[]): Promise<ResolvedFile | RequestRefusal | { redirect: true }> {
  const realFolder = await realpath(folder).catch(() => undefined);
  if (realFolder === undefined) return NOT_FOUND;
  const lexical = resolve(folder, ...segments);
  if (!isInside(resolve(folder), lexical)) return FORBIDDEN;
  let real: string;
  try {
    real = await realpath(lexical);
  } catch {
    return NOT_FOUND;
  }
  // A symbolic link inside the folder that points outside it.
  if (!isInside(realFolder, real)) return FORBIDDEN;
  let stats = await stat(real);
  if (stats.isDirectory()) {
    const last = segments[segments.length - 1];
    // `/app` must become `/app/` so the page's relative URLs resolve inside the folder.
    if (segments.length > 0 && last !== '') return { redirect: true };
    const index = join(real, 'index.html');
    if (!existsSync(index)) return NOT_FOUND;
    const realIndex = await realpath(index);
    if (!isInside(realFolder, realIndex)) return FORBIDDEN;
    stats = await stat(realIndex);
    return { path: realIndex, stats };
  }
  if (!stats.isFile()) return NOT_FOUND;
  return { path: real, stats };
}

function sendText(response: ServerResponse, headers: Readonly<Record<string, string>>, status: number, message: string, extra: Record<string, string> = {}): void {
  const body = `${message}\n`;
  response.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const root = resolve(options.root);
  if (!existsSync(root)) throw new TenasInputError(`the folder to serve does not exist: ${root}`);
  const mounts = (options.mounts ?? []).map((mount) => ({ prefix: normaliseMountPrefix(mount.prefix), directory: resolve(mount.directory) }));
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TenasInputError(`port must be an integer from 0 to 65535, got ${port}`);
  const headers: Readonly<Record<string, string>> = options.crossOriginIsolation === false ? COMMON_HEADERS : { ...COMMON_HEADERS, ...ISOLATION_HEADERS };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendText(response, headers, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      return;
    }
    const target = request.url ?? '';
    const segments = requestSegments(target);
    if (segments instanceof RequestRefusal) {
      sendText(response, headers, segments.status, segments.message);
      return;
    }
    const urlPath = `/${segments.join('/')}`;
    const mount = mounts.find((candidate) => urlPath.startsWith(candidate.prefix));
    const folder = mount?.directory ?? root;
    const below = mount ? segments.slice(mount.prefix.split('/').length - 2) : segments;
    const resolved = await resolveFile(folder, below);
    if (resolved instanceof RequestRefusal) {
      sendText(response, headers, resolved.status, resolved.message);
      return;
    }
    if ('redirect' in resolved) {
      const query = target.includes('?') ? target.slice(target.indexOf('?')) : '';
      sendText(response, headers, 301, 'moved', { Location: `${urlPath}/${query}` });
      return;
    }
    response.writeHead(200, {
      ...headers,
      'Content-Type': MIME_TYPES[extname(resolved.path).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(resolved.stats.size),
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    const stream = createReadStream(resolved.path);
    stream.on('error', () => response.destroy());
    stream.pipe(response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) sendText(response, headers, 500, 'internal server error');
      else response.destroy();
    });
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? `port ${port} is in use; pass another port or 0 for any free one` : error.message;
      rejectListen(new TenasInputError(`cannot listen on ${host}:${port}: ${reason}`));
    });
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${address.port}/`,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

/**
 * The package's own layout: `/` is `dist/web` (built by `scripts/build-web.mjs`), `/data/` is the
 * package's `data/` folder, so the pages fetch the embedded CIFAR images and the NB201 table from
 * `/data/cifar10-test-1000/...` and `/data/nb201/...`, the same relative paths the Node loaders use,
 * and `/lib/` is the browser build (`dist/browser`), whose `worker.js` the app's pool runs.
 */
export function packageWebLayout(): { root: string; mounts: ServerMount[] } {
  const packageRoot = findPackageRoot('data/nb201');
  const root = join(packageRoot, 'dist', 'web');
  if (!existsSync(join(root, 'app', 'index.html'))) {
    throw new TenasInputError(`the web pages are not built (${join('dist', 'web', 'app', 'index.html')} is missing); run \`npm run build:web\` first`);
  }
  return {
    root,
    mounts: [
      { prefix: '/data/', directory: join(packageRoot, 'data') },
      { prefix: '/lib/', directory: join(packageRoot, 'dist', 'browser') },
    ],
  };
}

/** Serves the package's pages and data (`tenas serve`). */
export function servePackage(options: { port?: number; host?: string; crossOriginIsolation?: boolean } = {}): Promise<RunningServer> {
  return startServer({ ...packageWebLayout(), ...options });
}
