/**
 * `dsx-event-bus nkeys`: a drop-in for the upstream
 * `deploy/scripts/generate-nkeys.sh` (same arguments, defaults, rules,
 * messages and output tree), without `nsc`/`nk`, crash- and
 * concurrency-safe, plus `--check`.
 *
 * Imports only the key modules (no cdk8s), so it starts fast.
 */
import * as fs from 'fs';
import * as path from 'path';
import { problem, quote } from '../errors';
import { CliIo, Command, DEFAULT_KEY_STORE, unknownOption, UsageError } from './command';
import { warnIfNotGitIgnored } from './git-ignore';
import { NKeysRequest, PlanMode } from '../keys/engine/plan';
import { RotationBook } from '../keys/engine/rotation-state';
import { activeWriter, generate, inspect } from '../keys/engine/writer';
import { validateCpcId, validateExtraAccounts } from '../keys/layout';

const USAGE = `Usage: dsx-event-bus nkeys [OPTIONS] [cpc-ids...]

Generate NATS Event Bus NKeys to local files (a drop-in for the upstream
deploy/scripts/generate-nkeys.sh; no nsc or nk needed).

Without CPC IDs, only the CSC output is generated or left unchanged.
With CPC IDs, CSC and the requested CPC outputs are generated or left unchanged.
Keys that exist are never regenerated.

Options:
  -o, --output DIR         Output root directory (default: ${DEFAULT_KEY_STORE})
      --extra-account NAME Extra NATS account: one more leaf key pair per CPC
                           (repeatable; letters and digits, starting with a letter)
      --check              Verify the tree only (modes, key kinds, seed/pubkey
                           pairs, copies, leaf pairs, strays): writes nothing,
                           lists every defect, exits 1 if there is any
  -h, --help               Show this help message

Arguments:
  cpc-ids                  Optional list of CPC IDs to generate with CSC
                           (lower-case letters and digits; repeats are ignored)

Examples:
  dsx-event-bus nkeys
  dsx-event-bus nkeys 1 2 3
  dsx-event-bus nkeys -o ${DEFAULT_KEY_STORE} --extra-account LaunchLayer 1 2
  dsx-event-bus nkeys --check -o ${DEFAULT_KEY_STORE} 1 2`;

interface NKeysArgs {
  readonly output: string;
  readonly accounts: string[];
  readonly cpcIds: string[];
  readonly check: boolean;
}

/**
 * Left-to-right, like the script's `while/case` loop: `-h` exits at once
 * (arguments before it are already validated, those after it are not), an
 * invalid id fails where it stands.
 */
function parse(args: readonly string[]): NKeysArgs | 'help' {
  let output = DEFAULT_KEY_STORE;
  let check = false;
  let options = true;
  const accounts: string[] = [];
  const cpcIds: string[] = [];
  const value = (i: number, flag: string): string => {
    if (i + 1 >= args.length) throw new UsageError(`${flag} requires a value`);
    return args[i + 1];
  };
  const addAccount = (name: string) => {
    validateExtraAccounts([...accounts, name], '--extra-account');
    accounts.push(name);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (options) {
      if (a === '-o' || a === '--output') {
        output = value(i++, a);
        continue;
      }
      if (a.startsWith('--output=')) {
        output = a.slice('--output='.length);
        continue;
      }
      if (a === '--extra-account') {
        addAccount(value(i++, a));
        continue;
      }
      if (a.startsWith('--extra-account=')) {
        addAccount(a.slice('--extra-account='.length));
        continue;
      }
      if (a === '--check') {
        check = true;
        continue;
      }
      if (a === '-h' || a === '--help') return 'help';
      if (a === '--') {
        options = false;
        continue;
      }
      if (a.startsWith('-')) throw unknownOption(a, ['-o', '--output', '--extra-account', '--check', '-h', '--help']);
    }
    try {
      validateCpcId(a, 'Invalid CPC ID');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (!cpcIds.includes(a)) cpcIds.push(a);
  }
  return { output, accounts, cpcIds, check };
}

function requestOf(args: NKeysArgs): NKeysRequest {
  const tokens = validateExtraAccounts(args.accounts, '--extra-account');
  return { cpcIds: args.cpcIds, accounts: args.accounts.map((name, i) => ({ name, token: tokens[i] })) };
}

function refuseUnsafeRoot(output: string): void {
  if (output === '' || path.resolve(output) === path.parse(path.resolve(output)).root) {
    throw problem({
      problem: `refusing unsafe output root: ${quote(output)}`,
      fix: `pass a directory of its own with -o, e.g. ${DEFAULT_KEY_STORE}`,
    });
  }
}

async function runGenerate(args: NKeysArgs, io: CliIo): Promise<number> {
  const request = requestOf(args);
  io.out(`Generating NATS Event Bus NKey outputs...\nOutput directory: ${args.output}\n`);
  refuseUnsafeRoot(args.output);
  // A revoked id comes back only on purpose (revoke --reinstate), and with new keys.
  new RotationBook(path.resolve(args.output), args.output).checkUsable(request.cpcIds, args.output);
  const created = !fs.existsSync(args.output);
  const { plan } = generate(args.output, args.output, request, {
    onWait: (holder) => io.out(`Waiting for another run that holds the lock on ${args.output} (${holder})...\n`),
  });
  if (plan.defects.length) {
    for (const d of plan.defects) io.err(`ERROR: ${d}\n`);
    io.err(`ERROR: nothing was written under ${args.output}\n`);
    return 1;
  }
  io.out(`${plan.lines.join('\n')}\n\n=== Secret generation complete ===\n\nSecrets written under: ${args.output}\n`);
  if (created) warnIfNotGitIgnored(args.output, io);
  return 0;
}

async function runCheck(args: NKeysArgs, io: CliIo): Promise<number> {
  const request = requestOf(args);
  io.out(`Checking NATS Event Bus NKey outputs...\nOutput directory: ${args.output}\n`);
  refuseUnsafeRoot(args.output);
  // Read-only: never waits on a writer's lock (it could be held for as long
  // as a large run takes). What a live writer has not finished yet shows as
  // an interrupted run would, and the warning says so.
  const writer = activeWriter(args.output);
  if (writer) io.err(`WARNING: another run (${writer}) is writing ${args.output} now; --check does not wait for it and reports the store as it is at this moment. Rerun --check after that run ends\n`);
  const plan = inspect(args.output, args.output, request, PlanMode.CHECK, 0);
  for (const w of plan.warnings) io.err(`WARNING: ${w}\n`);
  if (plan.defects.length) {
    for (const d of plan.defects) io.err(`ERROR: ${d}\n`);
    io.err(`ERROR: ${plan.defects.length} ${plan.defects.length === 1 ? 'defect' : 'defects'} found under ${args.output}\n`);
    return 1;
  }
  io.out(`OK: ${plan.verified} key files under ${args.output} verified (modes, key kinds, seed/pubkey pairs, copies, leaf pairs).\n`);
  return 0;
}

export const command: Command = {
  usage: USAGE,
  ownsHelp: true,
  async run(argv: string[], io: CliIo): Promise<number> {
    const args = parse(argv);
    if (args === 'help') {
      io.out(USAGE + '\n');
      return 0;
    }
    return args.check ? runCheck(args, io) : runGenerate(args, io);
  },
};
