// The option parser: what counts as a value, and what is refused.
import { describe, expect, it } from 'vitest';
import { parseOptions, type OptionSpecs } from '../src/cli/args.js';
import { TenasInputError } from '../src/errors.js';

const specs: OptionSpecs = {
  json: { type: 'string', value: 'FILE', description: '' },
  seed: { type: 'string', value: 'N', description: '' },
  quiet: { type: 'boolean', short: 'q', description: '' },
};
const parse = (...argv: string[]) => parseOptions(argv, specs, 'tenas test');

describe('parseOptions', () => {
  it('takes a value that starts with - only when written --opt=value', () => {
    expect(parse('--json=./-q').get('json')).toBe('./-q');
    expect(parse('--json=-q').get('json')).toBe('-q');
    expect(() => parse('--json', '-q')).toThrow(/--json needs a value \(FILE\) but it is followed by the option '-q'; .* write it as --json=\.\/-q/);
  });

  it('takes a negative number as a value, so its range check can name the problem', () => {
    expect(parse('--seed', '-1').get('seed')).toBe('-1');
    expect(() => parse('--seed', '-x')).toThrow(/write it as --seed=-x/);
  });

  it('refuses an option given twice, naming both, also as short and long flag', () => {
    expect(() => parse('--seed', '1', '--seed=2')).toThrow(TenasInputError);
    expect(() => parse('--seed', '1', '--seed=2')).toThrow("option --seed is given twice ('--seed 1' and '--seed=2'); give it once");
    expect(() => parse('-q', '--quiet')).toThrow("option --quiet is given twice ('-q' and '--quiet')");
  });
});
