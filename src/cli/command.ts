import { parseArgs, ParseArgsConfig } from 'util';
import { EventBusError } from '../errors';

/** Where a command writes. Progress goes to `out`, errors and warnings to `err`. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** One `dsx-event-bus <name>` subcommand. */
export interface Command {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
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
 * common mistakes: `Unknown option: --x` and `--x requires a value`.
 */
export function parseCommandLine(args: string[], options: Options): ParsedCommandLine {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true, tokens: true }) as ParsedCommandLine;
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /'(-{1,2}[^'\s]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`Unknown option: ${flag}`, true);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = /^--?([^\s<]+)/.exec(flag)?.[1];
      const long = name && name.length === 1 ? Object.entries(options).find(([, o]) => o.short === name)?.[0] : name;
      throw new UsageError(`${flag.split(/[\s<]/)[0]} requires a value${long && long !== name ? ` (--${long})` : ''}`);
    }
    throw new UsageError(err.message, true);
  }
}
