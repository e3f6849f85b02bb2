/**
 * `dsx-event-bus init [DIR]`: writes a starter fleet file, `DIR/fleet.yaml`,
 * that the other commands' examples use as printed: its key store is
 * `deploy/secrets` (next to the file: a relative `keys.directory` is
 * relative to the fleet file), the default of `nkeys`, `certs` and `export`.
 * Loads no cdk8s.
 */
import * as path from 'path';
import { CliIo, Command, DEFAULT_KEY_STORE, parseCommandLine, UsageError } from './command';
import { problem } from '../errors';
import { PUBLIC_DIR_MODE, PUBLIC_FILE_MODE, writeNewFile } from '../files/atomic-write';
import { checkOutputRoot, lstatOrUndefined, mkdirpOwn } from '../files/safe-fs';

/** The file `init` writes. */
export const FLEET_FILE = 'fleet.yaml';

const USAGE = `Usage: dsx-event-bus init [DIR]

Writes a starter fleet file DIR/${FLEET_FILE} (DIR defaults to the current folder;
it is created when missing): one CSC and two CPCs, keys in ${DEFAULT_KEY_STORE}
(relative to the fleet file), Secrets you create from 'dsx-event-bus export'
(no seed in the synthesized output), certificates from one fleet CA, and
"$schema" pointing at this package's JSON Schema for editor completion.
An existing ${FLEET_FILE} is never replaced. It prints the commands that
follow, which work as printed.

Options:
  -h, --help   Show this help

Examples:
  dsx-event-bus init
  dsx-event-bus init infra/event-bus`;

/** The starter fleet file; `schemaRef` is the path of the JSON Schema relative to the file. */
export function starterFleetFile(schemaRef: string): string {
  return `# A starter fleet for the DSX Event Bus, written by \`dsx-event-bus init\`.
# Set your namespace, gateway hostnames and CPC ids; the JSON Schema in $schema
# lists every field. Relative paths (keys.directory) are relative to this file.
#
# Then, in this file's folder:
#   npx dsx-event-bus nkeys 1 2              # the NKeys: ${DEFAULT_KEY_STORE} (seeds: keep it out of git)
#   npx dsx-event-bus certs                  # the fleet CA: ${DEFAULT_KEY_STORE}/ca
#   npx dsx-event-bus synth -c ${FLEET_FILE}    # dist/<cluster>/manifests and values.event-bus.yaml
#   npx dsx-event-bus export 1 2             # the Secrets' values, for your secret store
$schema: ${JSON.stringify(schemaRef)}
namespace: dsx
keys:
  directory: ${DEFAULT_KEY_STORE}
# existing: you create each cluster's Secrets (e.g. from \`dsx-event-bus export --format env\`),
# so no seed is written to dist/. Or: externalSecrets / vaultStaticSecrets (from your secret
# store; \`export\` writes what they read), or inline (seeds in dist/: evaluation only).
delivery:
  type: existing
# One fleet CA (made by \`dsx-event-bus certs\`) backs a cert-manager CA issuer in every
# cluster; each CPC trusts the CSC gateway with its certificate.
certificates:
  ca: {}
clusters:
  - type: csc
    gateway:
      hostnames: [csc.event-bus.example.com]
  - type: cpc
    id: "1"
    gateway:
      hostnames: [cpc-1.event-bus.example.com]
  - type: cpc
    id: "2"
    gateway:
      hostnames: [cpc-2.event-bus.example.com]
`;
}

/** A path for the commands `init` prints: relative to the current folder, quoted when it needs it. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p) || '.';
  return /^[A-Za-z0-9._/-]+$/.test(rel) ? rel : JSON.stringify(rel);
}

export const command: Command = {
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { positionals } = parseCommandLine(args, {});
    if (positionals.length > 1) throw new UsageError(`Unexpected argument: ${positionals[1]}. Allowed: one DIR`, true);
    const dir = positionals[0] ?? '.';
    if (dir === '') throw new UsageError('DIR is empty. Fix: pass a folder, or nothing for the current one');
    const file = path.join(dir, FLEET_FILE);
    if (!checkOutputRoot(dir, 'DIR', { keyMaterial: false }).exists) mkdirpOwn(dir, PUBLIC_DIR_MODE);
    if (lstatOrUndefined(file)) {
      throw problem({ where: file, problem: 'already exists', fix: 'edit it, or pass another DIR (dsx-event-bus init DIR); nothing was written' });
    }
    // The schema of this very package (lib/cli -> schemas/), as a path relative to the new file.
    const schema = path.join(__dirname, '..', '..', 'schemas', 'fleet.schema.json');
    const ref = path.relative(path.resolve(dir), schema).split(path.sep).join('/');
    writeNewFile(file, starterFleetFile(ref), PUBLIC_FILE_MODE);
    const store = path.join(path.resolve(dir), DEFAULT_KEY_STORE);
    const storeOpt = path.resolve(DEFAULT_KEY_STORE) === store ? '' : ` -o ${shown(store)}`;
    const secretsOpt = storeOpt ? ` -s ${shown(store)}` : '';
    io.out(`Wrote ${file}. Next (keys.directory ${DEFAULT_KEY_STORE} is relative to the fleet file: ${shown(store)}):\n`
      + `  npx dsx-event-bus nkeys${storeOpt} 1 2\n`
      + `  npx dsx-event-bus certs${storeOpt}\n`
      + `  npx dsx-event-bus synth -c ${shown(file)}\n`
      + `  npx dsx-event-bus export${secretsOpt} 1 2\n`);
    return 0;
  },
};
