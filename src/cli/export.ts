/**
 * `dsx-event-bus export`: writes a key store in the remote layout that the
 * ExternalSecret and VaultStaticSecret objects of `EventBusSecrets` read, so
 * a pipeline can load it into Vault/OpenBao, a cloud secret manager, or
 * straight into Kubernetes Secrets. Loads no cdk8s.
 */
import * as fs from 'fs';
import * as path from 'path';
import { problem, quote } from '../errors';
import { INTERMEDIATES_DIR } from './certs';
import { CliIo, Command, DEFAULT_KEY_STORE, parseCommandLine, UsageError } from './command';
import { FLEET_CA_FILES } from './evaluation';
import { warnIfNotGitIgnored } from './git-ignore';
import { DEFAULT_ISSUER_NAME } from '../certificates/issuers';
import { writeFileAtomic } from '../files/atomic-write';
import { checkOutputRoot, describeType, mkdirOwn, mkdirpOwn, readRegularFile } from '../files/safe-fs';
import { validateObjectName } from '../k8s/names';
import { DirectoryKeyStore } from '../keys/directory-store';
import { CSC, cpcCluster } from '../keys/layout';
import { validateKeyStoreRequest } from '../keys/store';
import { DEFAULT_REMOTE_PREFIX, exportFleet, RemoteSecret, remotePath } from '../secrets/inventory';
import { validateRemotePath } from '../secrets/validate';

/** Output formats. */
export const EXPORT_FORMATS = ['vault-kv-json', 'env', 'json'] as const;
export type ExportFormat = typeof EXPORT_FORMATS[number];

const DEFAULT_OUTPUT = `${DEFAULT_KEY_STORE}-export`;
const DEFAULT_CA_SECRET = `${DEFAULT_ISSUER_NAME}-ca`;
const JSON_FILE = 'export.json';

export const EXPORT_USAGE = `Usage: dsx-event-bus export [options] [cpc-ids...]

Writes the NKeys of a key store (the output of 'dsx-event-bus nkeys') in the
remote layout that SecretsDelivery.externalSecrets() and vaultStaticSecrets()
read: one remote secret per Kubernetes Secret at
<prefix>/<cluster>/<secret-name> (<cluster> = csc or cpc-<id>), with one
property per key and exactly the keys the chart reads. Without cpc-ids only
the CSC is exported. Every extra account whose leaf keys the key store holds
for these clusters is exported, unless --extra-account names the accounts
(then any other account the store holds is left out, with a warning).
When the key store also holds the fleet root ('dsx-event-bus certs -o' into
the same folder, what certificates.ca: {} reads), each cluster's own
intermediate CA (ca/clusters/<cluster>.pem, issued by synth) is exported as
<prefix>/<cluster>/<ca-secret> with tls.crt, tls.key and ca.crt (the root's
certificate): the Secret that cluster's CA issuer signs with. The root's key
is never exported.
The mTLS server certificate is not in the key store and is not exported.
Seeds are never printed, unless '-o -' asks for stdout.

Options:
  -f, --format FORMAT      vault-kv-json (default), env or json
  -p, --prefix PREFIX      first part of every path (default: ${DEFAULT_REMOTE_PREFIX})
  -o, --output DIR         output directory (default: ${DEFAULT_OUTPUT});
                           '-' writes the json format to stdout
  -s, --secrets DIR        the key store (default: ${DEFAULT_KEY_STORE})
      --extra-account NAME export only these extra accounts' leaf keys (repeatable;
                           default: every extra account the key store holds)
      --no-mtls            leave out the nats-mtls-* Secrets (mTLS disabled)
      --ca-secret NAME     name of the fleet CA's Secret (default: ${DEFAULT_CA_SECRET},
                           the CA issuer's name + "-ca")
      --no-ca              leave out the fleet CA (its issuers get it some other way)
  -h, --help               show this help

Formats (files mode 600, directories 700):
  vault-kv-json  DIR/<prefix>/<cluster>/<secret-name>.json, one JSON object per path:
                   vault kv put -mount=secret <prefix>/<cluster>/<secret-name> @<file>
  env            DIR/<prefix>/<cluster>/<secret-name>.env, one key=value line per key:
                   kubectl -n <ns> create secret generic <secret-name> --from-env-file=<file>
  json           DIR/${JSON_FILE}: { "<prefix>/<cluster>/<secret-name>": { "<key>": "<value>" } }

Examples:
  dsx-event-bus export 1 2
  dsx-event-bus export --format env -o /run/secrets-export 1 2
  dsx-event-bus export --format json -o - 1 | vault-loader`;

/** One file to write, relative to the output directory. */
export interface ExportFile {
  readonly relativePath: string;
  readonly content: string;
}

/** Renders the remote secrets as the files of a format. */
export function renderExport(secrets: readonly RemoteSecret[], format: ExportFormat): ExportFile[] {
  switch (format) {
    case 'vault-kv-json':
      return secrets.map((s) => ({ relativePath: `${s.path}.json`, content: JSON.stringify(Object.fromEntries(s.data), null, 2) + '\n' }));
    case 'env':
      return secrets.map((s) => ({ relativePath: `${s.path}.env`, content: s.data.map(([k, v]) => `${k}=${v}\n`).join('') }));
    case 'json':
      return [{ relativePath: JSON_FILE, content: JSON.stringify(Object.fromEntries(secrets.map((s) => [s.path, Object.fromEntries(s.data)])), null, 2) + '\n' }];
  }
}

/**
 * Creates `relative` below `root`, each folder created here with mode 700.
 * Folders that exist are left as they are: the root may be the user's (a
 * folder the tool did not create is never chmod-ed), and a symlink or file
 * where a folder belongs is refused, never followed.
 */
function ensureDir(root: string, relative: string): void {
  let current = root;
  for (const part of relative.split('/').filter(Boolean)) {
    current = path.join(current, part);
    try {
      mkdirOwn(current, 0o700);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = fs.lstatSync(current);
      if (!st.isDirectory()) {
        throw problem({ where: current, problem: `exists and is not a directory (it is ${describeType(st)})`, fix: 'remove it or choose another --output' });
      }
    }
  }
}

/** Temp files an export killed half-way left: `.<file>.XXXXXX`, and `.<file>.<12 hex>.tmp` of earlier versions. */
const EXPORT_TEMP = /^\..+\.(json|env)\.([A-Za-z0-9]{6}|[0-9a-f]{12}\.tmp)$/;

/** Removes the temp files (they may hold seeds) of killed exports below `dir`; returns them. */
function removeTempFiles(dir: string, recursive: boolean): string[] {
  const removed: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory() && recursive) {removed.push(...removeTempFiles(full, true));} else if (e.isFile() && EXPORT_TEMP.test(e.name)) {
      fs.rmSync(full, { force: true });
      removed.push(full);
    }
  }
  return removed;
}

/** Writes the files under `outDir`; returns the files of an earlier export that this one did not write (left in place). */
export function writeExport(files: readonly ExportFile[], outDir: string, format: ExportFormat, prefix: string): string[] {
  const root = checkOutputRoot(outDir, '-o/--output', { keyMaterial: true });
  if (!root.exists) mkdirpOwn(outDir, 0o700);
  removeTempFiles(outDir, false);
  removeTempFiles(path.join(outDir, prefix), true);
  for (const f of files) {
    ensureDir(outDir, path.posix.dirname(f.relativePath));
    writeFileAtomic(path.join(outDir, f.relativePath), f.content, 0o600);
  }
  if (format === 'json') return [];
  const written = new Set(files.map((f) => path.join(outDir, f.relativePath)));
  const ext = format === 'env' ? '.env' : '.json';
  const stale: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(ext) && !written.has(full)) stale.push(full);
    }
  };
  walk(path.join(outDir, prefix));
  return stale.sort();
}

const CSC_LEAF_DIR = /^nats-leaf-([a-z0-9]+)-cpc-([a-z0-9]+)$/;
const CPC_LEAF_DIR = /^nats-leaf-([a-z0-9]+)-csc$/;

/** Entry names of a folder of the key store; none when it is missing or not a real folder (symlinks are not followed). */
function folderEntries(dir: string): string[] {
  try {
    return fs.lstatSync(dir).isDirectory() ? fs.readdirSync(dir) : [];
  } catch {
    return [];
  }
}

/**
 * The extra accounts (their Secret-name tokens, e.g. `launchlayer` for
 * LaunchLayer) whose leaf keys the key store under `root` holds for the CSC
 * and the CPCs `cpcIds`: `csc/nkeys/nats-leaf-<token>-cpc-<id>` and
 * `cpc-<id>/nkeys/nats-leaf-<token>-csc`. Sorted.
 */
export function storedAccountTokens(root: string, cpcIds: readonly string[]): string[] {
  const ids = new Set(cpcIds);
  const tokens = new Set<string>();
  for (const name of folderEntries(path.join(root, 'csc', 'nkeys'))) {
    const m = CSC_LEAF_DIR.exec(name);
    if (m && ids.has(m[2])) tokens.add(m[1]);
  }
  for (const id of ids) {
    for (const name of folderEntries(path.join(root, cpcCluster(id), 'nkeys'))) {
      const m = CPC_LEAF_DIR.exec(name);
      if (m) tokens.add(m[1]);
    }
  }
  return [...tokens].sort();
}

/**
 * Each cluster's CA issuer Secret when the key store holds the fleet root
 * (`dsx-event-bus certs` wrote `<root>/ca/ca.crt` there): the cluster's own
 * name-constrained intermediate, which `dsx-event-bus synth` issues beside
 * the root (`<root>/ca/clusters/<cluster>.pem`, certificate then key), as
 * `tls.crt`, `tls.key` and the root's certificate as `ca.crt`: what a CA
 * issuer's ExternalSecret or VaultStaticSecret reads. The root's key is never
 * read here and never exported: no cluster receives it. Empty when the store
 * holds no root; a cluster without its intermediate yet is left out, with a
 * warning naming the command that issues it.
 */
export function exportFleetCa(
  root: string, prefix: string, clusters: readonly string[], secretName: string, warn: (line: string) => void = () => {},
): RemoteSecret[] {
  const [certName] = FLEET_CA_FILES;
  const caDir = path.join(root, 'ca');
  const rootCert = readRegularFile(path.join(caDir, certName), undefined, { below: root });
  if (rootCert === undefined) return [];
  if (!rootCert.includes('-----BEGIN CERTIFICATE-----')) {
    throw problem({ where: path.join(caDir, certName), problem: 'the fleet root certificate is not PEM', fix: 'restore it (dsx-event-bus certs wrote it), or pass --no-ca; nothing was written' });
  }
  const out: RemoteSecret[] = [];
  for (const cluster of clusters) {
    const file = path.join(caDir, INTERMEDIATES_DIR, `${cluster}.pem`);
    const text = readRegularFile(file, 'remove it: synth then issues a new intermediate for this cluster', { below: root, ownFile: true, what: 'an intermediate CA (certificate, then key)' });
    if (text === undefined) {
      warn(`warning: ${cluster} has no intermediate CA in ${path.dirname(file)} yet, so its CA issuer Secret ${secretName} was not exported (the fleet root's key never is); run dsx-event-bus synth on a fleet file with certificates.ca: {} (it issues each cluster's intermediate beside the root), then export again, or pass --no-ca`);
      continue;
    }
    const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
    const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n?/.exec(text)?.[0];
    if (!cert || !key) {
      throw problem({ where: file, problem: `${cluster}'s intermediate CA is incomplete (it holds ${cert ? 'no key' : 'no certificate'})`, fix: 'remove the file: dsx-event-bus synth then issues a new intermediate for this cluster; nothing was written' });
    }
    out.push({ path: remotePath(prefix, cluster, secretName), cluster, secretName, data: [['tls.crt', cert], ['tls.key', key], ['ca.crt', rootCert]] });
  }
  return out;
}

/** The `export` subcommand. */
export const command: Command = {
  usage: EXPORT_USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandLine(args, {
      'format': { type: 'string', short: 'f' },
      'prefix': { type: 'string', short: 'p' },
      'output': { type: 'string', short: 'o' },
      'secrets': { type: 'string', short: 's' },
      'extra-account': { type: 'string', multiple: true },
      'no-mtls': { type: 'boolean' },
      'ca-secret': { type: 'string' },
      'no-ca': { type: 'boolean' },
    });
    const format = (values.format as string | undefined) ?? 'vault-kv-json';
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format ${quote(format)} is unknown. Allowed: ${EXPORT_FORMATS.join(', ')}.`);
    }
    const prefix = (values.prefix as string | undefined) ?? DEFAULT_REMOTE_PREFIX;
    validateRemotePath(prefix, '--prefix', 'prefix');
    const output = (values.output as string | undefined) ?? DEFAULT_OUTPUT;
    if (output === '') throw new UsageError('--output is empty. Fix: pass a directory, or "-" for stdout.');
    const toStdout = output === '-';
    if (toStdout && format !== 'json') {
      throw new UsageError(`-o - writes one document to stdout, but --format ${format} writes one file per path. Fix: use --format json with -o -, or pass a directory.`);
    }
    const explicitAccounts = values['extra-account'] as string[] | undefined;
    validateKeyStoreRequest({ cpcIds: positionals, extraAccounts: explicitAccounts ?? [] }, 'dsx-event-bus export');
    const secretsDir = (values.secrets as string | undefined) ?? DEFAULT_KEY_STORE;
    // Read everything before writing anything: a missing or bad key writes no file.
    // The export never invents keys: a missing one fails with the command that creates it.
    const store = DirectoryKeyStore.open(secretsDir);
    // By default every extra account the store holds for these clusters: an
    // account left out would leave its ExternalSecrets pointing at nothing.
    // Its token is a valid account name that maps to itself.
    const stored = storedAccountTokens(store.root, positionals);
    const extraAccounts = explicitAccounts ?? stored;
    const request = { cpcIds: positionals, extraAccounts };
    const accountTokens = validateKeyStoreRequest(request, 'dsx-event-bus export');
    const leftOut = stored.filter((t) => !accountTokens.includes(t));
    store.ensure(request);
    const clusterDirs = [CSC, ...positionals.map(cpcCluster)];
    const caSecret = (values['ca-secret'] as string | undefined) ?? DEFAULT_CA_SECRET;
    validateObjectName(caSecret, '--ca-secret', 'Secret name');
    const caSecrets = values['no-ca'] ? [] : exportFleetCa(store.root, prefix, clusterDirs, caSecret, (line) => io.err(`${line}\n`));
    const secrets = [...exportFleet(store, { prefix, cpcIds: positionals, accountTokens, mtls: !values['no-mtls'] }), ...caSecrets];
    const files = renderExport(secrets, format as ExportFormat);
    const clusters = clusterDirs.join(', ');
    for (const t of leftOut) {
      io.err(`warning: the key store ${secretsDir} holds leaf keys of the extra account ${quote(t)} (Secrets nats-leaf-${t}-*) for ${clusters}, but --extra-account does not name it, so they were not exported; add --extra-account for it, or leave out --extra-account to export every account the store holds\n`);
    }
    const accounts = (accountTokens.length ? `, extra accounts ${accountTokens.join(', ')}` : '') + (caSecrets.length ? `, each cluster's intermediate CA as ${caSecret}` : '');

    if (toStdout) {
      (io.data ?? io.out)(files[0].content);
      io.err(`Exported ${secrets.length} remote secrets (${clusters}${accounts}) to stdout.\n`);
      return 0;
    }
    const created = !fs.existsSync(output);
    const stale = writeExport(files, output, format as ExportFormat, prefix);
    if (created) warnIfNotGitIgnored(output, io, 'the export');
    io.out(`Exported ${secrets.length} remote secrets (${clusters}${accounts}) as ${format} under ${format === 'json' ? path.join(output, JSON_FILE) : path.join(output, prefix)}.\n`);
    if (format === 'vault-kv-json') {
      io.out(`Load into Vault/OpenBao KV v2 (mount "secret" here; use the mount of your delivery):\n  cd ${quote(output)} && find ${quote(prefix)} -name '*.json' | while read -r f; do vault kv put -mount=secret "\${f%.json}" @"$f"; done\n`);
    }
    for (const f of stale) io.err(`warning: ${f} is from an earlier export and was not rewritten; delete it if it is no longer wanted\n`);
    return 0;
  },
};
