import { TenasInputError } from '../errors.js';
import { parseOptions } from './args.js';
import { commandHelp, type Command } from './command.js';
import { benchCommand } from './commands/bench.js';
import { browserBenchCommand } from './commands/browser-bench.js';
import { correlateCommand } from './commands/correlate.js';
import { reproduceCommand } from './commands/reproduce.js';
import { scoreCommand } from './commands/score.js';
import { searchCommand } from './commands/search.js';
import { serveCommand } from './commands/serve.js';
import { clipInputs, oneLine, type CliIO } from './output.js';
import { VERSION } from './version.js';

export const EXIT_OK = 0;
export const EXIT_INTERNAL_ERROR = 1;
export const EXIT_USAGE_ERROR = 2;

/** Every command, in the order of the help text. */
export const COMMANDS: readonly Command[] = [searchCommand, scoreCommand, benchCommand, correlateCommand, reproduceCommand, serveCommand, browserBenchCommand];

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return `tenas ${VERSION}: training-free neural architecture search (TE-NAS)

Usage: tenas <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n')}

Options:
  -h, --help     show this help (or a command's help: tenas <command> --help)
  -V, --version  print the version

Exit codes: 0 success, 1 internal error, 2 invalid input, 130 cancelled.
`;
}

async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    throw new TenasInputError(`no command given; choose one of ${COMMANDS.map((command) => command.name).join(', ')} (see tenas --help)`);
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.stdout.write(topLevelHelp());
    return EXIT_OK;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === first);
  if (command === undefined) {
    const what = first.startsWith('-') ? `unknown option '${first}' before the command` : `unknown command '${first}'`;
    throw new TenasInputError(`${what}; choose one of ${COMMANDS.map((candidate) => candidate.name).join(', ')} (see tenas --help)`);
  }
  // Help is honoured before anything else is validated, so `tenas score --net bogus --help` still helps.
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(command));
    return EXIT_OK;
  }
  const options = parseOptions(rest, command.options, `tenas ${command.name}`);
  return command.run(options, io);
}

/** Runs the CLI and returns its exit code; never throws. */
export async function main(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (error instanceof TenasInputError) {
      io.stderr.write(`tenas: error: ${clipInputs(oneLine(error.message), argv)}\n`);
      return EXIT_USAGE_ERROR;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`tenas: internal error: ${clipInputs(oneLine(message), argv)}\n`);
    if (argv.includes('--verbose') && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    io.stderr.write(`This is a bug in tenas-web ${VERSION}; please report it with the command you ran${argv.includes('--verbose') ? '' : ' (rerun with --verbose for the stack trace)'}.\n`);
    return EXIT_INTERNAL_ERROR;
  }
}
