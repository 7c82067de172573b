import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requestSegments, startServer, type RunningServer } from '../src/server/serve.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends the request target byte for byte (an HTTP client library would normalise `..` and `%2e`). */
function rawRequest(baseUrl: string, target: string, method = 'GET'): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...headerLines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`, 'latin1');
  });
}

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'a.js': 'text/javascript; charset=utf-8',
  'a.mjs': 'text/javascript; charset=utf-8',
  's.css': 'text/css; charset=utf-8',
  'k.wasm': 'application/wasm',
  'd.json': 'application/json; charset=utf-8',
  't.csv': 'text/csv; charset=utf-8',
  'b.bin': 'application/octet-stream',
  'i.svg': 'image/svg+xml',
  'p.png': 'image/png',
  'a.js.map': 'application/json; charset=utf-8',
};

let work: string;
let root: string;
let server: RunningServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tenas-server-test-'));
  root = join(work, 'root');
  const data = join(work, 'data');
  const outside = join(work, 'outside');
  for (const dir of [root, join(root, 'sub'), data, join(data, 'nb201'), outside]) mkdirSync(dir, { recursive: true });
  for (const name of Object.keys(FILES)) writeFileSync(join(root, name), `content of ${name}`);
  writeFileSync(join(root, 'sub', 'index.html'), 'sub index');
  writeFileSync(join(root, '.hidden'), 'dotfile');
  writeFileSync(join(data, 'nb201', 'table.csv'), 'index,arch\n');
  writeFileSync(join(outside, 'secret.txt'), 'TOP SECRET');
  writeFileSync(join(work, 'secret.txt'), 'TOP SECRET');
  symlinkSync(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
  symlinkSync(outside, join(root, 'dir-out'));
  symlinkSync(join(root, 'a.js'), join(root, 'link-in.js'));
  server = await startServer({ root, mounts: [{ prefix: '/data/', directory: data }] });
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('static server', () => {
  test('listens on the loopback interface by default', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  test.each(Object.entries(FILES))('serves %s as %s with cross-origin isolation headers', async (name, mime) => {
    const response = await rawRequest(server.url, `/${name}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(mime);
    expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(response.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
    // The benchmark page's profile samples the kernels only where the document policy allows it.
    expect(response.headers['document-policy']).toBe('js-profiling');
    expect(response.body).toBe(`content of ${name}`);
  });

  test('serves index.html for a folder and redirects a folder without its slash', async () => {
    expect((await rawRequest(server.url, '/')).body).toBe('content of index.html');
    expect((await rawRequest(server.url, '/sub/')).body).toBe('sub index');
    const redirect = await rawRequest(server.url, '/sub?x=1');
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/sub/?x=1');
  });

  test('maps /data/ to its own folder', async () => {
    const response = await rawRequest(server.url, '/data/nb201/table.csv');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.body).toBe('index,arch\n');
  });

  test('answers HEAD without a body and refuses other methods', async () => {
    const head = await rawRequest(server.url, '/a.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('content of a.js'.length));
    expect(head.body).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = await rawRequest(server.url, '/a.js', method);
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
    }
  });

  test('404 for missing files and dotfiles', async () => {
    expect((await rawRequest(server.url, '/missing.js')).status).toBe(404);
    expect((await rawRequest(server.url, '/.hidden')).status).toBe(404);
  });

  const escapes = [
    '/../secret.txt',
    '/../../etc/passwd',
    '/sub/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/.%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2fsecret.txt',
    '/sub%2f..%2f..%2fsecret.txt',
    '/%252e%252e/secret.txt',
    '/%252e%252e%252fsecret.txt',
    '/..\\secret.txt',
    '/%5c..%5csecret.txt',
    '/sub\\..\\..\\secret.txt',
    '/a.js%00.html',
    '/a.js\u0000',
    '/data/../secret.txt',
    '/data/%2e%2e/%2e%2e/secret.txt',
    '/data/..%2f..%2fsecret.txt',
    '/link-out.txt',
    '/dir-out/secret.txt',
  ];

  test.each(escapes)('refuses %j without leaking paths', async (target) => {
    const response = await rawRequest(server.url, target);
    expect([400, 403, 404]).toContain(response.status);
    expect(response.body).not.toContain('SECRET');
    expect(response.body).not.toContain(work);
    expect(response.body).not.toContain('secret');
  });

  test('refuses traversal and encoded variants with 403 and symlinks out of the root with 403', async () => {
    for (const target of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%252e%252e/secret.txt', '/..\\secret.txt', '/a.js%00', '/link-out.txt', '/dir-out/secret.txt']) {
      expect((await rawRequest(server.url, target)).status, target).toBe(403);
    }
  });

  test('follows a symbolic link that stays inside the root', async () => {
    const response = await rawRequest(server.url, '/link-in.js');
    expect(response.status).toBe(200);
    expect(response.body).toBe('content of a.js');
  });

  test('can serve without the isolation headers', async () => {
    const plain = await startServer({ root, crossOriginIsolation: false });
    try {
      const response = await rawRequest(plain.url, '/a.js');
      expect(response.status).toBe(200);
      expect(response.headers['cross-origin-opener-policy']).toBeUndefined();
      expect(response.headers['cross-origin-embedder-policy']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  test('request paths decode once and keep query strings out', () => {
    expect(requestSegments('/app/?batch=8')).toEqual(['app', '']);
    expect(requestSegments('/a%20b.js')).toEqual(['a b.js']);
    expect(requestSegments('/%E0%A4%A')).toMatchObject({ status: 400 });
  });
});
