import { servePackage } from '../../server/serve.js';
import { integerOption, stringOption, type ParsedOptions } from '../args.js';
import { COMMON_OPTIONS, type Command } from '../command.js';
import type { CliIO } from '../output.js';

async function run(options: ParsedOptions, io: CliIO): Promise<number> {
  const server = await servePackage({ port: integerOption(options, 'port', 0, 65535) ?? 8080, host: stringOption(options, 'host') ?? '127.0.0.1' });
  io.stdout.write(`search app:     ${server.url}app/\nbenchmark page: ${server.url}bench/\n(Ctrl-C stops the server)\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await server.close();
  return 0;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the search app and the benchmark page (COOP/COEP headers, loopback by default)',
  description: `Usage: tenas serve [--port N] [--host H]

Serves the built web pages (dist/web) and the embedded data (/data/) with the cross-origin isolation
headers that let the worker pool share memory. Listens on 127.0.0.1 unless --host says otherwise.`,
  options: {
    port: { type: 'string', value: 'N', description: 'TCP port, 0 for any free port (default 8080)' },
    host: { type: 'string', value: 'H', description: 'address to listen on (default 127.0.0.1)' },
    ...COMMON_OPTIONS,
  },
  run,
};
