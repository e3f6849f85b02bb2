import { EventBusError, fileSystemFix, formatProblem, WARNING_TYPE } from '../errors';
import { redactSecrets } from '../redact';
import { CliIo, Command, didYouMean, UsageError } from './command';

/**
 * The subcommands. Each is loaded only when used, so `dsx-event-bus nkeys`
 * never pays for loading cdk8s and the CRD bindings.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const COMMANDS: Record<string, { summary: string; load: () => Command }> = {
  init: { summary: 'Write a starter fleet file (fleet.yaml) that the other commands\' examples use', load: () => require('./init').command },
  nkeys: { summary: 'Generate the NKey key store (drop-in for generate-nkeys.sh); --check verifies it', load: () => require('./nkeys').command },
  certs: { summary: 'Write evaluation certificates: one fleet CA; nats-mtls-server-tls and mqtt-client per cluster', load: () => require('./certs').command },
  synth: { summary: 'Synthesize a fleet description into manifests and Helm values per cluster', load: () => require('./synth').command },
  rotate: { summary: 'Rotate keys in stages (overlap, switched, done); --status prints what to deploy where', load: () => require('./rotate').command },
  revoke: { summary: 'Revoke a CPC: archive its keys, refuse its id until reinstated', load: () => require('./rotate').revokeCommand },
  export: { summary: 'Write the key store in the remote layout of the ExternalSecrets/VaultStaticSecrets', load: () => require('./export').command },
};
/**
 * The fleet file's wording of a message, loaded only for a warning or an
 * error: it reads the fleet file's schema and the construct enums, which
 * `nkeys`, `export` and `rotate` never need.
 */
const fileTerms = (): typeof import('./file-terms') => require('./file-terms');
/* eslint-enable @typescript-eslint/no-require-imports */

export const TOP_USAGE = `Usage: dsx-event-bus <command> [options]

Prepares everything the DSX Event Bus Helm chart needs before install.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join('\n')}

Run 'dsx-event-bus <command> --help' for the options of a command.`;

/**
 * Runs the CLI; resolves to the exit code. Never throws. Everything printed
 * passes the seed redaction (src/redact.ts), except what a command writes
 * with `io.data` (key material the user asked for on stdout).
 */
export async function main(argv: string[], rawIo: CliIo): Promise<number> {
  const io: CliIo = {
    out: (text) => rawIo.out(redactSecrets(text)),
    err: (text) => rawIo.err(redactSecrets(text)),
    data: (text) => (rawIo.data ?? rawIo.out)(text),
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    (name === undefined ? io.err : io.out)(TOP_USAGE + '\n');
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    io.out(`${require('../../package.json').version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const suggestion = didYouMean(name, Object.keys(COMMANDS));
    io.err(suggestion
      ? `ERROR: Unknown command: ${name}. Did you mean ${suggestion}? Run 'dsx-event-bus --help' to list the commands.\n`
      : `ERROR: Unknown command: ${name}\n${TOP_USAGE}\n`);
    return 1;
  }
  const command = entry.load();
  if (!command.ownsHelp && (rest.includes('-h') || rest.includes('--help'))) {
    io.out(command.usage + '\n');
    return 0;
  }
  // The library's warnings (process warnings of type DsxEventBusWarning) are
  // the command's: printed as WARNING lines through io, in the file's terms.
  const others = process.listeners('warning');
  const forward = (w: Error): void => {
    if (w.name === WARNING_TYPE) io.err(`WARNING: ${fileTerms().fileSpelling(w.message)}\n`);
    else for (const l of others) l(w);
  };
  process.removeAllListeners('warning');
  process.on('warning', forward);
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof EventBusError) {
      io.err(`ERROR: ${fileTerms().inFileTerms(e).message}\n`);
      if (e instanceof UsageError && e.showUsage) io.err(command.usage + '\n');
      return 1;
    }
    const refused = systemError(e);
    if (refused) {
      // The file system refused (read-only root, a file where a folder belongs,
      // a full disk): the user's to fix, so one line naming the path, no stack.
      io.err(`ERROR: ${refused}\n`);
      return 1;
    }
    // A bug of ours: show it plainly, but still as one ERROR line first.
    io.err(`ERROR: unexpected failure: ${(e as Error).stack ?? e}\n`);
    return 2;
  } finally {
    // process.emitWarning delivers on the next tick: let it arrive first.
    await new Promise((resolve) => process.nextTick(resolve));
    process.off('warning', forward);
    for (const l of others) process.on('warning', l);
  }
}

/** What Node's fs reports on a refused operation: `EACCES: permission denied, mkdir '/x'`. */
interface NodeSystemError {
  readonly code: string;
  readonly syscall: string;
  readonly path?: string;
  readonly dest?: string;
  readonly message: string;
}

/** The message for a file-system error, or undefined when `e` is not one. */
function systemError(e: unknown): string | undefined {
  const err = e as Partial<NodeSystemError> | undefined;
  if (!err || typeof err.code !== 'string' || typeof err.syscall !== 'string' || !/^E[A-Z]+$/.test(err.code)) return undefined;
  // "EACCES: permission denied, mkdir '/x'" -> "permission denied"
  const reason = /^E[A-Z]+: ([^,]+)/.exec(err.message ?? '')?.[1] ?? err.code;
  const target = err.path ? `${err.path}${err.dest ? ` -> ${err.dest}` : ''}` : 'the file system';
  const meaning = fileSystemFix(err.code);
  return formatProblem({
    where: target,
    problem: `${err.syscall} failed (${err.code}: ${reason})${meaning.reason && meaning.reason !== reason ? `: ${meaning.reason}` : ''}`,
    fix: meaning.fix,
  });
}
