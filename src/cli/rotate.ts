/**
 * `dsx-event-bus rotate` and `dsx-event-bus revoke`: the key rotations and
 * revocations kept in the key store (src/keys/engine/rotation-state.ts).
 * Imports only the key modules (no cdk8s), so they start fast.
 */
import * as path from 'path';
import { CliIo, Command, DEFAULT_KEY_STORE, parseCommandLine, UsageError } from './command';
import { DirectoryKeyStore } from '../keys/directory-store';
import { RotationBook } from '../keys/engine/rotation-state';
import { validateCpcId } from '../keys/layout';
import { RotatableClusterKey, RotationStatus, RotationTarget } from '../keys/rotation';

const ROTATE_USAGE = `Usage: dsx-event-bus rotate [-s DIR] [--status | --start TARGET | --advance TARGET]

Rotates keys in stages, each a normal synth output to deploy and review:

  overlap    (--start)    the new pair is stored beside the current one; the accepting
                          cluster's output accepts both keys. Deploy it.
  switched   (--advance)  the key store's layout holds the new pair: the presenting
                          cluster presents the new key, the old one is still accepted.
                          Deploy the clusters in the order --status prints.
  done       (--advance)  only the new key is accepted; the old pair is archived in
                          DIR/.dsx-event-bus.state/archive/. Deploy the accepting cluster.

The tool cannot see the clusters: --advance is your confirmation that the current
stage is deployed. Run synth after every step. A step cut off half-way is completed
by the next rotate or revoke run.

TARGET:
  cpc-<id>              the leaf keys CPC <id> presents to the CSC (the CSC account and
                        every extra account); the CSC accepts them
  <cluster>/<secret>    a cluster's own key, both sides in that cluster; <secret> is one of
                        ${Object.values(RotatableClusterKey).filter((k) => k !== RotatableClusterKey.AUTH_CALLOUT_ISSUER).join(', ')}
  <cluster>/auth-callout-issuer
                        the auth-callout issuer and xkey of that cluster, replaced together:
                        they cannot overlap, so switched is one deploy that refuses every
                        login on that cluster until nats and the auth-callout both run it
                        (see docs/operations.md)

Options:
  -s, --secrets DIR     The key store (default: ${DEFAULT_KEY_STORE})
      --status          Print every rotation in progress (the default)
      --start TARGET    Start a rotation (stage overlap)
      --advance TARGET  Move a rotation to its next stage
  -h, --help            Show this help message

Examples:
  dsx-event-bus rotate --start cpc-1
  dsx-event-bus rotate --status
  dsx-event-bus rotate --advance cpc-1
  dsx-event-bus rotate --start csc/nats-nack-user`;

const REVOKE_USAGE = `Usage: dsx-event-bus revoke [-s DIR] [--reinstate] CPC-ID

Revokes a CPC (compromised or retired): its keys, its folder cpc-<id>/ and the CSC
side of each of its leaf pairs, move to DIR/.dsx-event-bus.state/archive/ (never
deleted), and every later use of the id is refused (nkeys, synth) until you
reinstate it on purpose. Then remove the CPC from the fleet file, run synth (it
removes the CPC's output folder) and deploy the CSC: it no longer accepts the
CPC's keys in any account.

Options:
  -s, --secrets DIR     The key store (default: ${DEFAULT_KEY_STORE})
      --reinstate       Allow the id again; it gets new keys from the next
                        'dsx-event-bus nkeys' (the archived keys are never restored)
  -h, --help            Show this help message`;

/** The lines `rotate --status` prints for one rotation. */
export function describeRotation(s: RotationStatus, secrets: string): string[] {
  return [
    `${s.target}: stage ${s.stage} since ${s.stageSince} (started ${s.started})`,
    `  old public keys: ${s.oldPublicKeys.join(', ')}`,
    `  new public keys: ${s.newPublicKeys.join(', ')}`,
    s.deployOrder.length ? `  deploy the output of this stage, in this order: ${s.deployOrder.join(', then ')}` : '  this stage changes no output: nothing to deploy',
    `  before the next step, confirm: ${s.confirmBeforeNextStep}`,
    `  next step: dsx-event-bus rotate -s ${secrets} --advance ${s.target} (${s.nextStepChanges.length ? `changes the output of ${s.nextStepChanges.join(', then ')}` : 'changes no output'}${s.stage === 'switched' ? '; ends the rotation' : ''})`,
  ];
}

export const command: Command = {
  usage: ROTATE_USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandLine(args, {
      secrets: { type: 'string', short: 's' },
      status: { type: 'boolean' },
      start: { type: 'string' },
      advance: { type: 'string' },
    });
    if (positionals.length) throw new UsageError(`Unexpected argument: ${positionals[0]}`, true);
    const actions = ['status', 'start', 'advance'].filter((a) => values[a] !== undefined);
    if (actions.length > 1) throw new UsageError(`--${actions.join(' and --')} cannot be combined. Fix: run one step at a time.`, true);
    const secrets = (values.secrets as string | undefined) ?? DEFAULT_KEY_STORE;
    const book = new RotationBook(path.resolve(secrets), secrets);
    for (const n of book.complete()) io.err(`${n}\n`);
    const store = DirectoryKeyStore.open(secrets);
    if (values.start !== undefined) {
      const s = store.startRotation(RotationTarget.parse(values.start as string));
      io.out(`Started the rotation of ${s.target}: new keys stored beside the current ones.\n`);
      io.out(describeRotation(s, secrets).join('\n') + '\nNow: run synth and deploy as above.\n');
      return 0;
    }
    if (values.advance !== undefined) {
      const target = RotationTarget.parse(values.advance as string);
      const s = store.advanceRotation(target);
      if (s) {
        io.out(`Advanced the rotation of ${s.target} to ${s.stage}.\n${describeRotation(s, secrets).join('\n')}\nNow: run synth and deploy as above.\n`);
      } else {
        io.out(`Finished the rotation of ${target.name}: only the new keys are accepted; the old pair is archived under ${path.join(secrets, '.dsx-event-bus.state', 'archive')}.\n`
          + (target.key === RotatableClusterKey.AUTH_CALLOUT_ISSUER
            ? 'The output does not change: nothing to deploy.\n'
            : `Now: run synth and deploy ${target.acceptingCluster}.\n`));
      }
      return 0;
    }
    const all = store.rotations();
    io.out(all.length ? `${all.length} rotation${all.length === 1 ? '' : 's'} in progress in ${secrets}:\n` : `No rotation in progress in ${secrets}.\n`);
    for (const s of all) io.out(describeRotation(s, secrets).join('\n') + '\n');
    const revoked = store.revokedCpcs();
    if (revoked.length) io.out(`Revoked CPCs: ${revoked.map((r) => `${r.cpcId} (${r.revoked})`).join(', ')}\n`);
    return 0;
  },
};

export const revokeCommand: Command = {
  usage: REVOKE_USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandLine(args, {
      secrets: { type: 'string', short: 's' },
      reinstate: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `Unexpected argument: ${positionals[1]}` : 'a CPC id is required', true);
    const id = positionals[0];
    validateCpcId(id, 'revoke');
    const secrets = (values.secrets as string | undefined) ?? DEFAULT_KEY_STORE;
    const book = new RotationBook(path.resolve(secrets), secrets);
    for (const n of book.complete()) io.err(`${n}\n`);
    const store = DirectoryKeyStore.open(secrets);
    if (values.reinstate) {
      const r = store.reinstateCpc(id);
      io.out(`CPC ${id} may be used again (revoked ${r.revoked}); its old keys stay archived in ${path.join(secrets, r.archive)}.\n`
        + `Now: generate new keys with 'dsx-event-bus nkeys -o ${secrets} ${id}' (with your --extra-account options).\n`);
      return 0;
    }
    const r = store.revokeCpc(id);
    io.out(`Revoked CPC ${id}: its keys are archived in ${path.join(secrets, r.archive)}.\n`
      + `Now: remove CPC ${id} from the fleet file, run synth (it removes the output folder cpc-${id}) and deploy the CSC;\n`
      + `the CSC then refuses CPC ${id}'s keys in every account. Uninstall the CPC's release if it still runs.\n`);
    return 0;
  },
};
