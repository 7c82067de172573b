import { BACKEND_CHOICES } from '../engine/create.js';
import { formatOptionHelp, type OptionSpec, type OptionSpecs, type ParsedOptions } from './args.js';
import type { CliIO } from './output.js';

export interface Command {
  readonly name: string;
  /** One line for the command list of `tenas --help`. */
  readonly summary: string;
  /** Usage line(s) and explanation shown above the options by `tenas <command> --help`. */
  readonly description: string;
  readonly options: OptionSpecs;
  run(options: ParsedOptions, io: CliIO): Promise<number>;
}

/** `--backend` of the commands that compute. */
export const BACKEND_OPTION: OptionSpec = {
  type: 'string',
  value: BACKEND_CHOICES.join('|'),
  description: 'compute backend (default auto; wasm-fma: fused multiply-add, faster, other last bits)',
};

/** Options every command accepts. */
export const COMMON_OPTIONS: OptionSpecs = {
  help: { type: 'boolean', short: 'h', description: 'show this help and exit' },
  verbose: { type: 'boolean', description: 'print stack traces of internal errors' },
};

export function commandHelp(command: Command): string {
  return `${command.description.trimEnd()}\n\nOptions:\n${formatOptionHelp(command.options)}\n`;
}
