import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { TenasInputError } from '../errors.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Placeholder for the value in the help text, e.g. `N` or `FILE`. */
  readonly value?: string;
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What was given on the command line: strings for string options, `true` for flags. */
export type ParsedOptions = Map<string, string | true>;

/**
 * Parses `argv` against `specs`, rejecting unknown options, positionals, missing values and values
 * given to flags. Node's strict mode is not used because it refuses `--seed -1` as ambiguous, which
 * would hide the real problem (a negative seed) behind a confusing message.
 */
export function parseOptions(argv: readonly string[], specs: OptionSpecs, command: string): ParsedOptions {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) config[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  let tokens;
  try {
    ({ tokens } = parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true }));
  } catch (error) {
    throw new TenasInputError(`${command}: ${(error as Error).message}`);
  }
  const parsed: ParsedOptions = new Map();
  const given = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new TenasInputError(`unexpected argument '${token.value}': ${command} takes only options, which start with -- (see ${command} --help)`);
    }
    if (token.kind === 'option-terminator') {
      throw new TenasInputError(`unexpected '--': ${command} takes no positional arguments`);
    }
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined;
    if (spec === undefined) {
      throw new TenasInputError(`unknown option '${token.rawName}' for ${command}; valid options: ${Object.keys(specs).map((name) => `--${name}`).join(', ')}`);
    }
    const written = spec.type === 'string' && token.value !== undefined ? `${token.rawName}${token.inlineValue ? '=' : ' '}${token.value}` : token.rawName;
    const earlier = given.get(token.name);
    if (earlier !== undefined) throw new TenasInputError(`option --${token.name} is given twice ('${earlier}' and '${written}'); give it once`);
    given.set(token.name, written);
    if (spec.type === 'boolean') {
      if (token.inlineValue) throw new TenasInputError(`option --${token.name} takes no value, got '${token.value}'`);
      parsed.set(token.name, true);
      continue;
    }
    const value = token.value;
    if (value === undefined) throw new TenasInputError(`option --${token.name} needs a value (${spec.value ?? 'VALUE'}) but it is the last argument`);
    if (!token.inlineValue && looksLikeOption(value)) {
      throw new TenasInputError(
        `option --${token.name} needs a value (${spec.value ?? 'VALUE'}) but it is followed by the option '${value}'; ` +
          `to pass a value that starts with '-', write it as --${token.name}=${PATH_VALUES.has(spec.value ?? '') ? `./${value}` : value}`,
      );
    }
    parsed.set(token.name, value);
  }
  return parsed;
}

/** Placeholders of options that take paths: a value like `-q` is suggested as `./-q`. */
const PATH_VALUES = new Set(['FILE', 'FILES', 'PATH']);

/**
 * A separate argument that reads as an option, not a value: `-q`, `--json`. A negative number
 * (`--seed -1`) is taken as the value, so its range check names the real problem.
 */
function looksLikeOption(value: string): boolean {
  return value.startsWith('-') && value.length > 1 && !/^-\d/.test(value);
}

export function stringOption(options: ParsedOptions, name: string): string | undefined {
  const value = options.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function flagOption(options: ParsedOptions, name: string): boolean {
  return options.get(name) === true;
}

/** An integer option in [min, max]; `undefined` when absent. */
export function integerOption(options: ParsedOptions, name: string, min: number, max: number): number | undefined {
  const text = stringOption(options, name);
  if (text === undefined) return undefined;
  const value = /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TenasInputError(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

/** `--workers N`: worker threads scoring candidates; one per core unless given (0: the main thread). */
export function workersOption(options: ParsedOptions): number {
  return integerOption(options, 'workers', 0, 1024) ?? availableParallelism();
}

export const WORKERS_HELP = 'worker threads scoring candidates, 0 to 1024 (default: one per core; 0 runs on the main thread)';

/** A string option that must be one of `choices` (matched case-insensitively); `undefined` when absent. */
export function choiceOption<T extends string>(options: ParsedOptions, name: string, choices: readonly T[]): T | undefined {
  const text = stringOption(options, name);
  if (text === undefined) return undefined;
  const match = choices.find((choice) => choice.toLowerCase() === text.trim().toLowerCase());
  if (match === undefined) throw new TenasInputError(`--${name} must be one of ${choices.join(', ')}, got '${text}'`);
  return match;
}

export function requireOption<T>(value: T | undefined, name: string, what: string): T {
  if (value === undefined) throw new TenasInputError(`option --${name} is required: ${what}`);
  return value;
}

/** The options block of a help text, one aligned line per option. */
export function formatOptionHelp(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
    return [flag, spec.description] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`).join('\n');
}
