// The bad-input matrix: every row is a command line a user could type by mistake, the exit code and
// the message fragment it must give, and the files it must leave exactly as they were. The option
// rows are generated from the commands' own option lists, so a new option is covered the day it is
// added; the rest are written out by hand.
import path from 'node:path';
import type { Command } from '../../src/cli/command.js';
import { GOLDEN_NTK_ARCH, ROW_SETTINGS } from './bad-input-fixtures.js';

/** A single-path NB201 arch, for the evaluation network. */
const SINGLE_PATH_ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|';

export interface BadInputRow {
  readonly argv: readonly string[];
  readonly exit: number;
  /** A fragment of the one `tenas: error:` line (a string must appear verbatim). */
  readonly message: string | RegExp;
  /** Files (fixtures, devices) whose type, permissions and content must be the same afterwards. */
  readonly unchanged?: readonly string[];
}

const USAGE = 2;

const SPACES = 'nb201, darts';
const DATASETS = 'cifar10, cifar100, imagenet16-120, imagenet-1k';
const BENCHMARK_DATASETS = 'cifar10, cifar100, imagenet16-120';
const BACKENDS = 'auto, wasm, wasm-fma, webgpu';
const PROTOCOLS = 'reference, paper';

/** Rows every option of every command gets from its spec: no value, an option where the value should be, a value given to a flag. */
function optionSpecRows(commands: readonly Command[]): BadInputRow[] {
  const rows: BadInputRow[] = [];
  for (const command of commands) {
    for (const [name, spec] of Object.entries(command.options)) {
      if (name === 'help') continue; // --help anywhere shows the help and exits 0
      if (spec.type === 'string') {
        rows.push({ argv: [command.name, `--${name}`], exit: USAGE, message: `option --${name} needs a value (${spec.value}) but it is the last argument` });
        rows.push({ argv: [command.name, `--${name}`, '-q'], exit: USAGE, message: `option --${name} needs a value (${spec.value}) but it is followed by the option '-q'` });
      } else {
        rows.push({ argv: [command.name, `--${name}=yes`], exit: USAGE, message: `option --${name} takes no value, got 'yes'` });
      }
    }
    rows.push({ argv: [command.name, '--frobnicate'], exit: USAGE, message: `unknown option '--frobnicate' for tenas ${command.name}` });
    rows.push({ argv: [command.name, 'extra'], exit: USAGE, message: `unexpected argument 'extra': tenas ${command.name} takes only options` });
  }
  return rows;
}

/** Not an integer, a fraction, just below and just above the range. */
function integerRows(base: readonly string[], name: string, min: number, max: number): BadInputRow[] {
  return ['abc', '1.5', String(min - 1), String(max + 1)].map((value) => ({
    argv: [...base, `--${name}`, value],
    exit: USAGE,
    message: `--${name} must be an integer from ${min} to ${max}, got '${value}'`,
  }));
}

function choiceRow(base: readonly string[], name: string, choices: string): BadInputRow {
  return { argv: [...base, `--${name}`, 'bogus'], exit: USAGE, message: `--${name} must be one of ${choices}, got 'bogus'` };
}

export function badInputTable(dir: string, commands: readonly Command[]): BadInputRow[] {
  const at = (name: string) => path.join(dir, name);
  const search = ['search'];
  const score = ['score', '--net', 'ntk', '--backend', 'wasm'];
  const bench = ['bench'];
  const correlate = ['correlate', '--sample', '3', '--out', at('new-rows.csv')];
  const reproduce = ['reproduce', '--space', 'nb201', '--seeds', '1'];
  const browserBench = ['browser-bench'];
  const resume = (file: string) => ['correlate', '--space', 'nb201', '--sample', String(ROW_SETTINGS.sample), '--seed', String(ROW_SETTINGS.seed), '--batch', String(ROW_SETTINGS.batch), '--patches', String(ROW_SETTINGS.patches), '--backend', 'wasm', '--out', at(file)];
  const merge = (...files: string[]) => ['correlate', '--merge', files.map(at).join(',')];
  const row = (argv: string[], message: string | RegExp, unchanged: string[] = []): BadInputRow => ({ argv, exit: USAGE, message, unchanged });
  const data = (file: string, message: string | RegExp, dataset = 'cifar10') => row([...search, '--dataset', dataset, '--data', at(file), '--json', at('keep.json')], message, [at(file), at('keep.json')]);
  const weights = (file: string, message: string | RegExp) => row([...score, '--weights', at(file)], message, [at(file)]);
  const input = (file: string, message: string | RegExp, extra: string[] = []) => row([...score, '--input', at(file), ...extra], message, [at(file)]);
  const resumed = (file: string, message: string | RegExp) => row(resume(file), message, [at(file)]);
  const merged = (files: string[], message: string | RegExp) => row(merge(...files), message, files.map(at));

  return [
    // The command line itself.
    row([], 'no command given; choose one of search, score, bench, correlate, reproduce, serve, browser-bench'),
    row(['frobnicate'], "unknown command 'frobnicate'"),
    row(['--json', 'x.json'], "unknown option '--json' before the command"),
    row([...search, '--', 'x'], "unexpected '--': tenas search takes no positional arguments"),
    ...optionSpecRows(commands),

    // An option given twice, naming both; a value that looks like an option.
    row([...search, '--seed', '1', '--seed', '2'], "option --seed is given twice ('--seed 1' and '--seed 2'); give it once"),
    row([...search, '-q', '--quiet'], "option --quiet is given twice ('-q' and '--quiet')"),
    row([...search, '--json=a.json', '--json', 'b.json'], "option --json is given twice ('--json=a.json' and '--json b.json')"),
    row([...score, '--arch', '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', '--arch', 'x'], /option --arch is given twice/),
    row([...bench, '--runs', '1', '--runs', '2'], "option --runs is given twice ('--runs 1' and '--runs 2')"),
    row(['correlate', '--out', 'a.csv', '--out', 'b.csv'], "option --out is given twice ('--out a.csv' and '--out b.csv')"),
    row([...reproduce, '--seeds', '2'], "option --seeds is given twice ('--seeds 1' and '--seeds 2')"),
    row(['serve', '--port', '1', '--port', '2'], "option --port is given twice"),
    row([...browserBench, '--json', '--json'], "option --json is given twice ('--json' and '--json')"),
    row([...search, '--json', '-x'], "option --json needs a value (FILE) but it is followed by the option '-x'; to pass a value that starts with '-', write it as --json=./-x"),
    row([...search, '--dataset', '-x'], "option --dataset needs a value (NAME) but it is followed by the option '-x'; to pass a value that starts with '-', write it as --dataset=-x"),
    row([...search, '--data', '--synthetic'], "option --data needs a value (PATH) but it is followed by the option '--synthetic'"),
    row([...search, '--synthetic', '--data', at('one-record.bin')], '--synthetic and --data exclude each other'),

    // Integer options: not an integer, a fraction, out of range (a negative number is a value, not an option).
    ...integerRows(search, 'seed', 0, 2 ** 31 - 1),
    ...integerRows(search, 'batch', 2, 1024),
    ...integerRows(search, 'repeats', 1, 100),
    ...integerRows(search, 'patches', 2, 100_000),
    ...integerRows(search, 'prune-number', 1, 7),
    ...integerRows(search, 'workers', 0, 1024),
    ...integerRows(score, 'classes', 1, 100_000),
    ...integerRows(score, 'seed', 0, 2 ** 31 - 1),
    ...integerRows(score, 'batch', 2, 1024),
    ...integerRows(bench, 'batch', 2, 1024),
    ...integerRows(bench, 'runs', 1, 100),
    ...integerRows(['correlate', '--out', at('new-rows.csv')], 'sample', 1, 15_625),
    ...integerRows(correlate, 'seed', 0, 2 ** 31 - 1),
    ...integerRows(correlate, 'batch', 2, 1024),
    ...integerRows(correlate, 'repeats', 1, 100),
    ...integerRows(correlate, 'patches', 2, 100_000),
    ...integerRows(['reproduce', '--space', 'nb201'], 'seeds', 1, 1000),
    ...integerRows(reproduce, 'workers', 0, 1024),
    ...integerRows(reproduce, 'batch', 2, 1024),
    ...integerRows(reproduce, 'repeats', 1, 100),
    ...integerRows(['serve'], 'port', 0, 65_535),
    ...integerRows(browserBench, 'batch', 2, 1024),
    ...integerRows(browserBench, 'runs', 1, 100),
    ...integerRows(browserBench, 'timeout', 1, 86_400),

    // Choice options.
    choiceRow(search, 'space', SPACES),
    choiceRow(search, 'dataset', DATASETS),
    choiceRow(search, 'protocol', PROTOCOLS),
    choiceRow(search, 'backend', BACKENDS),
    choiceRow(score, 'space', SPACES),
    choiceRow(['score'], 'net', 'ntk, thin, eval'),
    choiceRow(score, 'dataset', DATASETS),
    choiceRow(['score', '--net', 'ntk'], 'backend', BACKENDS),
    choiceRow(bench, 'space', SPACES),
    choiceRow(bench, 'dataset', DATASETS),
    choiceRow(bench, 'backend', BACKENDS),
    choiceRow(correlate, 'space', SPACES),
    choiceRow(correlate, 'dataset', BENCHMARK_DATASETS),
    choiceRow(correlate, 'protocol', PROTOCOLS),
    choiceRow(correlate, 'backend', BACKENDS),
    choiceRow(reproduce, 'dataset', BENCHMARK_DATASETS),
    choiceRow(reproduce, 'backend', BACKENDS),
    choiceRow(['reproduce', '--seeds', '1'], 'space', SPACES),
    choiceRow(browserBench, 'backend', 'wasm, wasm-fma, webgpu, all'),
    choiceRow(browserBench, 'space', SPACES),

    // Options that need others, or exclude them.
    row(['score'], 'option --net is required'),
    row(['reproduce'], 'option --seeds is required'),
    row(['correlate', '--sample', '3'], 'option --out is required'),
    row(['correlate', '--out', at('new-rows.csv')], 'choose which architectures to score: --sample N'),
    row(['correlate', '--sample', '3', '--all', '--out', at('new-rows.csv')], 'choose which architectures to score'),
    row(['correlate', '--sample', '3', '--space', 'darts', '--out', at('new-rows.csv')], 'correlate supports --space nb201 only'),
    row(['reproduce', '--seeds', '1', '--space', 'darts'], 'reproduce supports --space nb201 only'),
    ...['3/2', '0/2', '1/0', 'a/b', '1'].map((shard) => row([...correlate, '--shard', shard], `--shard must be K/N with 1 ≤ K ≤ N`)),
    row([...browserBench, '--chrome', at('no-such-browser')], 'the browser given by --chrome does not exist'),

    // Indicators: names, combinations and the evaluation network's options.
    row([...correlate, '--indicators', 'ntk,bogus'], /--indicators: unknown indicator 'bogus'; the indicators are ntk, regions, .*synflow.*\(or all\)/),
    row([...correlate, '--indicators', 'ntk,ntk'], '--indicators names ntk twice; name each indicator once'),
    row([...correlate, '--channels', '8'], '--channels and --cells size NB201\'s evaluation network, which none of the indicators ntk,regions uses'),
    row([...correlate, '--combine', 'ntk,bogus'], "--combine: unknown indicator 'bogus'"),
    row([...correlate, '--indicators', 'ntk', '--combine', 'ntk,regions'], '--combine names regions, which --indicators does not measure; add it to --indicators'),
    ...integerRows([...correlate, '--indicators', 'synflow'], 'channels', 1, 256),
    ...integerRows([...correlate, '--indicators', 'synflow'], 'cells', 1, 20),
    row(['correlate', '--status', dir, '--shards', '2', '--sample', '3', '--indicators', 'ntk'], /--status reads the shard files .*; leave out --indicators/),
    row([...resume('rows-ok.csv'), '--indicators', 'ntk,regions,synflow'], /rows-ok\.csv holds rows scored with indicators kappa,regions, .* but this run uses indicators kappa,regions,synflow, .*eval net C 16 N 5 batch 8/, [at('rows-ok.csv')]),
    row([...search, '--indicators', 'bogus'], /--indicators: unknown indicator 'bogus'; the indicators are ntk, regions, /),
    choiceRow(search, 'combine', 'ranksum, az'),
    row([...search, '--synthetic', '--indicators', 'snip'], 'snip needs class labels and synthetic inputs have none; search with the embedded CIFAR-10 images'),
    row([...score, '--channels', '8'], '--channels goes with --net eval (the zero-cost proxies); leave it out with --net ntk'),
    row(['score', '--net', 'eval', '--backend', 'wasm', '--arch', SINGLE_PATH_ARCH, '--indicators', 'regions'], 'regions is measured on the thin network, not the evaluation network; score it with --net thin'),
    row(['score', '--net', 'eval', '--backend', 'wasm', '--arch', SINGLE_PATH_ARCH, '--labels', at('input-ok.npy')], '--labels gives the classes of the images of --input; pass --input X.npy too', [at('input-ok.npy')]),
    row(['score', '--net', 'eval', '--backend', 'wasm', '--arch', SINGLE_PATH_ARCH, '--input', at('input-ok.npy'), '--labels', at('input-ok.npy')], /labels file .*input-ok\.npy holds float32 values; labels must be integers/, [at('input-ok.npy')]),
    row(['score', '--net', 'eval', '--backend', 'wasm', '--space', 'darts', '--arch', GOLDEN_NTK_ARCH], "--net eval is NAS-Bench-201's evaluation network; use --space nb201"),
    row(['score', '--net', 'eval', '--backend', 'wasm', '--arch', '|nor_conv_3x3,skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|'], 'the evaluation network needs a single-path NB201 arch (one op per edge)'),

    // Architectures.
    row([...score, '--arch', '|nor_conv_3x3~0|+|'], 'invalid NAS-Bench-201 arch string'),
    row([...score, '--arch', '|conv_9x9~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'], 'conv_9x9'),
    row([...score, '--arch', ''], /arch/),
    row([...score, '--arch', `|${'nor_conv_3x3~0|'.repeat(6000)}`], '… (90001 characters)'),
    row([...score, '--space', 'darts', '--arch', '{"normal": ['], /DARTS/i),
    row([...score, '--space', 'darts', '--arch', `{"normal": [${Array(10_000).fill('["none"]').join(', ')}]}`], /invalid DARTS mask/),
    row([...score, '--space', 'darts', '--arch', 'Genotype(normal=[(\'sep_conv_9x9\', 0)])'], /sep_conv_9x9|genotype/i),

    // --data: files recognised by content, with what would work instead.
    data('missing.bin', /the image path .*missing\.bin does not exist/),
    data('notes.png', /notes\.png is not CIFAR-10 binary data \(the file looks like text\): record 1 has label byte 120/),
    data('bad-label.bin', /bad-label\.bin is not CIFAR-10 binary data: record 3 has label byte 12, but CIFAR-10 labels are 0 to 9; .*a folder of JPEG\/PNG images/),
    data('truncated.bin', /truncated\.bin \(6139 bytes\) is neither a \.npy array, a JPEG\/PNG image nor CIFAR-10 binary records of 3073 bytes/),
    data('empty.bin', /empty\.bin \(0 bytes\) is neither/),
    data('one-record.bin', /one-record\.bin \(3073 bytes\) is neither .* CIFAR-100 binary records of 3074 bytes/, 'cifar100'),
    data('c100-coarse.bin', 'record 2 has coarse label byte 20, but CIFAR-100 coarse labels are 0 to 19', 'cifar100'),
    data('c100-fine.bin', 'record 1 has fine label byte 100, but CIFAR-100 fine labels are 0 to 99', 'cifar100'),
    data('one.png', /one\.png is a single PNG image; a search needs many: put the images in a folder and pass the folder/),
    data('one.jpg', /one\.jpg is a single JPEG image; .*pass the folder/),
    data('image.bin', /image\.bin is a single PNG image/),
    data('corrupt-png', /b\.png does not decode as PNG/),
    data('text-jpg', /notes\.jpg is named like an image but starts with neither the PNG nor the JPEG signature/),
    data('truncated-jpg', /a\.jpg does not decode as JPEG/),
    data('mixed-sizes', /images of different sizes: a\.png is 32×32 but b\.png is 16×16/),
    data('empty-folder', /holds no \.bin files and no \.jpg\/\.png images/),
    data('text-folder', /holds no \.bin files and no \.jpg\/\.png images/),
    data('npy-as-bin', /images\.bin is a \.npy file named \.bin/),
    data('bad-bin-folder', /data_batch_2\.bin is not CIFAR-10 binary data: record 1 has label byte 200/),
    data('truncated.npy', /truncated\.npy is truncated: shape \[2, 3, 32, 32\]/),
    data('int32.npy', /int32\.npy holds int32 values; images must be uint8 \(0 to 255\) or float32\/float64 in \[0, 1\]/),
    data('fortran.npy', /fortran\.npy is stored in Fortran order/),
    data('big-endian.npy', /big-endian data: save it little-endian/),
    data('version9.npy', /format version 9\.0/),
    data('header-cut.npy', /header-cut\.npy is truncated inside its header/),
    data('bad-dict.npy', /bad-dict\.npy/),
    data('three-d.npy', /expected a 4-D image array \[N,3,H,W\] or \[N,H,W,3\], got shape \[3, 32, 32\]/),
    data('two-channels.npy', /expected 3 colour channels/),
    data('out-of-range.npy', /float images must hold values in \[0, 1\], found 2/),
    data('non-square.npy', /images must be square, got 32×16/),
    data('small.npy', /16×16 images cannot feed the 32×32 input of cifar10/),
    data('no-images.npy', /the image array \[0, 3, 32, 32\] is empty/),
    data('text.npy', /text\.npy is not a NumPy \.npy file/),
    row([...search, '--data', '/dev/null'], 'the image path /dev/null (null) is neither a file nor a folder', ['/dev/null']),
    row([...bench, '--data', at('notes.png')], /notes\.png is not CIFAR-10 binary data/, [at('notes.png')]),
    row([...bench, '--data', at('one.jpg')], /one\.jpg is a single JPEG image/, [at('one.jpg')]),
    row([...bench, '--dataset', 'imagenet16-120', '--data', at('no-images.npy')], /is empty/, [at('no-images.npy')]),

    // score --weights (safetensors) and --input (.npy).
    weights('missing.safetensors', /the weights file .*missing\.safetensors does not exist/),
    weights('out-folder', /the weights file .*out-folder is a folder, not a file/),
    weights('truncated.safetensors', /truncated\.safetensors/),
    weights('tiny.safetensors', /fewer than the 8-byte header length/),
    weights('text.safetensors', /text\.safetensors is not a (valid )?safetensors file/),
    weights('huge-header.safetensors', /huge-header\.safetensors/),
    weights('header-not-json.safetensors', /its header is not valid UTF-8 JSON/),
    weights('header-array.safetensors', /its header is not a JSON object/),
    weights('f16.safetensors', /has dtype F16; only F32/),
    weights('offsets-past-end.safetensors', /offsets-past-end\.safetensors/),
    weights('wrong-names.safetensors', /names do not match/),
    row([...score, '--arch', GOLDEN_NTK_ARCH, '--weights', at('nan.safetensors')], /nan\.safetensors.*non-finite/, [at('nan.safetensors')]),
    input('missing.npy', /the input file .*missing\.npy does not exist/),
    input('text.npy', /text\.npy is not a NumPy \.npy file/),
    input('truncated.npy', /truncated\.npy is truncated/),
    input('input-28.npy', /has shape \[8, 3, 28, 28\] but the ntk net on cifar10 needs \[B, 3, 32, 32\]/),
    input('input-uint8.npy', /holds uint8 values; score inputs must be float32/),
    input('input-nan.npy', /holds a non-finite value \(NaN\) at flat index 5/),
    input('input-ok.npy', /--batch 4 does not match the 2 images/, ['--batch', '4']),
    row(['score', '--net', 'thin', '--backend', 'wasm', '--input', at('input-ok.npy')], /has shape \[2, 3, 32, 32\] but the thin net needs \[batches, n, 1, 3, 3\]/, [at('input-ok.npy')]),
    row(['score', '--net', 'thin', '--backend', 'wasm', '--input', at('thin-input.npy'), '--batch', '5'], /--batch 5 does not match the 10 patches per batch/, [at('thin-input.npy')]),
    row([...score, '--input', '/dev/null'], /\/dev\/null is not a NumPy \.npy file/, ['/dev/null']),

    // correlate: resuming a file whose middle row (line 3) is not what tenas writes.
    resumed('kappa-negative.csv', "--out: " + at('kappa-negative.csv') + " line 3: column kappa holds '-5', expected an NTK condition number κ ≥ 1"),
    resumed('kappa-below-one.csv', "line 3: column kappa holds '0.5', expected an NTK condition number κ ≥ 1"),
    resumed('kappa-nan.csv', "line 3: column kappa holds 'NaN'"),
    resumed('kappa-empty.csv', "line 3: column kappa holds ''"),
    resumed('regions-zero.csv', "line 3: column regions holds '0', expected a number of at least 1"),
    resumed('regions-fraction.csv', "line 3: column regions holds '2.5', expected a count of linear regions"),
    resumed('regions-negative.csv', "line 3: column regions holds '-3'"),
    resumed('arch-mismatch.csv', /line 3: arch_index 0 does not name \|/),
    resumed('arch-index-huge.csv', /line 3: arch_index 99999 does not name/),
    resumed('arch-index-negative.csv', "line 3: column arch_index holds '-1', expected an integer of at least 0"),
    resumed('protocol-bogus.csv', "line 3: column protocol holds 'bogus', expected reference or paper"),
    resumed('seed-fraction.csv', "line 3: column seed holds '1.5', expected an integer"),
    resumed('seconds-negative.csv', "line 3: column seconds holds '-1'"),
    resumed('repeats-zero.csv', "line 3: column repeats holds '0', expected an integer of at least 1"),
    resumed('missing-column.csv', 'line 3: 13 columns, expected 12'),
    resumed('other-header.csv', /line 1 is not the header of a tenas correlate CSV .*; tenas correlate appends to --out and resumes from it/),
    resumed('conflict.csv', /conflicting rows for arch \d+ .*line 3 has kappa 101.*line 5 has kappa 999/),
    resumed('other-settings.csv', /other-settings\.csv holds rows scored with .*batch 9, .* but this run uses .*batch 8, .*; use the same options or another --out/),
    resumed('not-object.jsonl', 'line 2: not a JSON object'),
    resumed('not-json.jsonl', 'line 2: not a JSON object'),
    resumed('no-kappa.jsonl', /no-kappa\.jsonl holds rows scored with indicators regions, .* but this run uses indicators kappa,regions, /),
    resumed('kappa-text.jsonl', "line 2: column kappa holds 'abc'"),
    resumed('rows.txt', `${at('rows.txt')} has neither a .csv nor a .jsonl extension, so its row format is unknown; name it *.csv or *.jsonl`),

    // correlate --merge: which input, and why.
    merged(['other-header.csv'], /--merge: the input .*other-header\.csv line 1 is not the header of a tenas correlate CSV.*; pass only the \.csv\/\.jsonl files written by tenas correlate --out/),
    merged(['rows-ok.csv', 'kappa-negative.csv'], /--merge: the input .*kappa-negative\.csv line 3: column kappa holds '-5'.*; pass only the \.csv\/\.jsonl files written by tenas correlate --out/),
    merged(['rows-ok.csv', 'missing.csv'], /--merge: the input .*missing\.csv does not exist/),
    merged(['rows-ok.csv', 'merge-conflict.csv'], /conflicting rows for arch \d+ .*rows-ok\.csv line 2 .*merge-conflict\.csv line 2/),
    merged(['rows-ok.csv', 'other-settings.csv'], /the rows were scored with different settings: .*rows-ok\.csv line 2 has .*batch 8, .* but .*other-settings\.csv line 2 has .*batch 9, /),
    merged(['rows.txt'], /--merge: the input .*rows\.txt has neither a \.csv nor a \.jsonl extension/),
    merged(['not-json.jsonl'], /--merge: the input .*not-json\.jsonl line 2: not a JSON object/),
    merged(['regions-fraction.csv'], /--merge: the input .*regions-fraction\.csv line 3: column regions holds '2\.5', expected a count of linear regions \(a whole number\)/),
    merged(['folder.csv'], /--merge: the input .*folder\.csv is a folder, not a file/),
    row(['correlate', '--merge', at('nomatch-*.csv')], /--merge: no file matches '.*nomatch-\*\.csv'/),
    row(['correlate', '--merge', ' , '], '--merge needs at least one file'),
    row([...merge('rows-ok.csv'), '--seed', '1'], '--merge joins finished rows and scores nothing; leave out --seed', [at('rows-ok.csv')]),
    row([...merge('rows-ok.csv'), '--dataset', 'cifar100'], '--dataset cifar100 does not match the rows, which were scored for cifar10', [at('rows-ok.csv')]),

    // Output options: missing, unwritable and special targets, checked before any work.
    ...outputRows('--json', search, at),
    ...outputRows('--out', reproduce, at),
    ...outputRows('--out', merge('rows-ok.csv'), at).map((item) => ({ ...item, unchanged: [...(item.unchanged ?? []), at('rows-ok.csv')] })),
    row(resume('folder.csv'), /--out: .*folder\.csv is a folder; give a file name inside it/, [at('folder.csv')]),
    row(resume('null-link.csv'), /--out: .*null-link\.csv is a character device, not a regular file/, [at('null-link.csv'), '/dev/null']),
    row(resume('plot-is-folder.csv'), /--out: .*plot-is-folder\.csv\.svg is a folder/, [at('plot-is-folder.csv.svg')]),
    row([...merge('rows-ok.csv'), '--out', at('plot-is-folder.csv')], /--out: .*plot-is-folder\.csv\.svg is a folder/, [at('rows-ok.csv'), at('plot-is-folder.csv.svg')]),
    row(['correlate', '--sample', '3', '--out', '/sys/rows.csv'], '--out: cannot create files in the folder /sys (permission denied)'),
    row(['correlate', '--sample', '3', '--out', at('missing/rows.csv')], /--out: the folder .*missing of .* does not exist/),
    row(['correlate', '--sample', '3', '--out', at('rows-dir.csv/')], /rows-dir\.csv\/ has neither a \.csv nor a \.jsonl extension/),
    row([...search, '--json', at('keep.json'), '--data', at('notes.png')], /notes\.png is not CIFAR-10 binary data/, [at('keep.json'), at('notes.png')]),
  ];
}

/** Every kind of target an output option can be wrong about; none may change. */
function outputRows(option: string, base: readonly string[], at: (name: string) => string): BadInputRow[] {
  const output = (target: string, message: string | RegExp, unchanged: string[] = []): BadInputRow => ({ argv: [...base, option, target], exit: USAGE, message, unchanged });
  // Merged rows are written as .csv or .jsonl, so only targets with those names get past the format check.
  const merging = base.includes('--merge');
  const name = merging ? 'merged.csv' : 'result.json';
  const rows = [
    output(at('out-folder'), new RegExp(`${option}: .*out-folder is a folder; give a file name inside it`)),
    output(`${at('out-folder')}/`, new RegExp(`${option}: .*out-folder/ ends in '/', so it names a folder`)),
    output(at(`missing/${name}`), new RegExp(`${option}: the folder .*missing of .* does not exist; create it first`)),
    output(at(`plain-file/${name}`), new RegExp(`${option}: .*plain-file/${name} has a path component that is not a folder`), [at('plain-file')]),
    output(at('loop-a.json'), new RegExp(`${option}: .*loop-a\\.json is a loop of symlinks`), [at('loop-a.json'), at('loop-b.json')]),
    output(at('socket.json'), new RegExp(`${option}: .*socket\\.json is a socket, not a regular file`)),
    output(`/sys/${name}`, `${option}: cannot create files in the folder /sys (permission denied)`),
    output('', `${option} needs a file name, got an empty string`),
  ];
  return merging ? rows.filter((item) => item.argv.at(-1)!.endsWith('.csv')) : rows;
}
