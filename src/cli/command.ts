import { parseArgs, ParseArgsConfig } from 'util';
import { EventBusError } from '../errors';

/** Where a command writes. Progress goes to `out`, errors and warnings to `err`. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /**
   * Key material the user asked to see on stdout (`export -o -`): the one
   * output that bypasses seed redaction. Defaults to `out` (redacted).
   */
  data?(text: string): void;
}

/**
 * The key store every command reads or writes unless told otherwise: the
 * upstream `generate-nkeys.sh` default output root (`nkeys -o`, `certs -o`,
 * `export -s`), relative to the current directory.
 */
export const DEFAULT_KEY_STORE = 'deploy/secrets';

/**
 * One `dsx-event-bus <name>` subcommand. Its name and one-line summary live
 * in the command table of run.ts, which lists them without loading the command.
 */
export interface Command {
  /** Full `--help` text. */
  readonly usage: string;
  /**
   * When true the command handles `-h/--help` itself (to keep the upstream
   * script's left-to-right argument processing); otherwise the dispatcher does.
   */
  readonly ownsHelp?: boolean;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}

/**
 * A bad command line: printed as `ERROR: <message>` on stderr with exit code 1,
 * like the upstream script. `showUsage` adds the command's help after it.
 */
export class UsageError extends EventBusError {
  constructor(message: string, public readonly showUsage = false) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** One token of the command line, in order (see `util.parseArgs` tokens). */
export type ArgToken =
  | { kind: 'option'; name: string; rawName: string; index: number; value?: string; inlineValue?: boolean }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

/** The parsed command line. */
export interface ParsedCommandLine {
  readonly values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  readonly positionals: string[];
  readonly tokens: ArgToken[];
}

/**
 * `util.parseArgs` (strict) with the upstream script's wording for the two
 * common mistakes: `Unknown option: --x` (with a "did you mean" when a known
 * option is close) and `-c/--config requires a value`.
 */
export function parseCommandLine(args: string[], options: Options): ParsedCommandLine {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true }) as ParsedCommandLine;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'(-{1,2}[^'\s]+)'/.exec(err.message)?.[1] ?? '';
      throw unknownOption(flag, Object.entries(options).flatMap(([long, o]) => [`--${long}`, ...(o.short ? [`-${o.short}`] : [])]));
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // "Option '-c, --config <value>' argument missing" / "Option '--x' does not take an argument"
      const m = /Option '(?:-(\w), )?--([^'\s<]+)/.exec(err.message);
      const forms = m ? [...(m[1] ? [`-${m[1]}`] : []), `--${m[2]}`] : [];
      // Name the flag as the user typed it (the last use of either form).
      const typed = [...args].reverse().map((a) => a.replace(/=.*$/, '')).find((a) => forms.includes(a)) ?? forms[forms.length - 1] ?? 'an option';
      const other = forms.length === 2 ? ` (${forms.join('/')})` : '';
      if (/does not take an argument/.test(err.message)) {
        throw new UsageError(`${typed}${other} takes no value. Fix: write ${typed} alone, without "=..." after it.`);
      }
      throw new UsageError(`${typed} requires a value${other}. Fix: put the value right after it, e.g. ${typed} ${m ? placeholder(m[2]) : 'VALUE'}.`);
    }
    throw new UsageError(err.message, true);
  }
}

/** The value placeholder shown in a fix, e.g. FILE for --config. */
function placeholder(long: string): string {
  return /config/.test(long) ? 'FILE' : /output|secrets|dir/.test(long) ? 'DIR' : long.toUpperCase().replace(/-/g, '_');
}

/**
 * `Unknown option: --chek` with "Did you mean --check?" when a known option is
 * close (then without the full usage, which would bury the hint).
 */
export function unknownOption(flag: string, known: readonly string[]): UsageError {
  const suggestion = didYouMean(flag.replace(/=.*$/, ''), known);
  if (suggestion) return new UsageError(`Unknown option: ${flag}. Did you mean ${suggestion}? Run with --help to list every option.`);
  return new UsageError(`Unknown option: ${flag}`, true);
}

/** The known option closest to `flag` (edit distance at most 2, or a unique prefix), if any. */
export function didYouMean(flag: string, known: readonly string[]): string | undefined {
  const longs = known.filter((k) => k.startsWith('--'));
  const prefixed = flag.startsWith('--') && flag.length > 3 ? longs.filter((k) => k.startsWith(flag)) : [];
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(flag.replace(/^-+/, ''), k.replace(/^-+/, ''));
    const limit = Math.min(2, Math.floor(k.replace(/^-+/, '').length / 3));
    if (d <= limit && d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance with transpositions counted as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
