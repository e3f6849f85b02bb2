/**
 * Each fact decided once, where it is owned (issue 19): a CPC id is checked
 * only where it enters, the leafnode port is written once, and the gateway
 * transport's default is resolved in one module. These read src/ as text, as
 * the import-graph check (`npx projen test:deps`) reads its imports.
 */
import * as fs from 'fs';
import * as path from 'path';

const SRC = path.join(__dirname, '..', 'src');

/** Every .ts module of src/ but the generated CRD bindings, as `src/...` paths with their text. */
function sources(): Array<{ file: string; text: string }> {
  return (fs.readdirSync(SRC, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.startsWith(`imports${path.sep}`))
    .sort()
    .map((f) => ({ file: `src/${f.split(path.sep).join('/')}`, text: fs.readFileSync(path.join(SRC, f), 'utf8') }));
}

/** The text without comments, so that prose naming a function or a number is not counted. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/**
 * Where a CPC id enters, and so the only modules that may check one with
 * `validateCpcId` (src/keys/layout.ts defines it). Everything downstream of
 * these takes the checked value (an `EventBusCluster`) or a store request.
 */
const CPC_ID_ENTRY_POINTS: Record<string, string> = {
  'src/secrets/cluster.ts': 'EventBusCluster.csc/cpc (and the fleet\'s, a LeafConnection\'s, a delivery\'s internal factories): every id a construct receives',
  'src/keys/store.ts': 'validateKeyStoreRequest: the request an IKeyStore (ours or one a user writes) receives',
  'src/keys/rotation.ts': 'RotationTarget.leaf / .clusterKey: ids a rotation is named by',
  'src/cli/nkeys.ts': 'dsx-event-bus nkeys <cpc-id>...',
  'src/cli/certs.ts': 'dsx-event-bus certs <cluster>...',
  'src/cli/rotate.ts': 'dsx-event-bus revoke <cpc-id>',
};

describe('a CPC id is checked once, where it enters', () => {
  test('validateCpcId is defined in src/keys/layout.ts and called only in the entry-point modules', () => {
    const callers: string[] = [];
    for (const { file, text } of sources()) {
      const body = code(text);
      if (file === 'src/keys/layout.ts') {
        expect(body.match(/\bvalidateCpcId\b/g)).toHaveLength(1); // the definition, no call
        continue;
      }
      if (/\bvalidateCpcId\b/.test(body)) callers.push(file);
    }
    expect(callers.sort()).toEqual(Object.keys(CPC_ID_ENTRY_POINTS).sort());
  });

  test('the constructs downstream of EventBusCluster take the checked value, not an id to check', () => {
    // LeafConnection, EventBusSecrets, the deliveries and the charts receive
    // an EventBusCluster; those whose own props carry an id string
    // (LeafConnection's cpcId, the fleet's cpcs[].id, a delivery's
    // certificates keys) hand it to an EventBusCluster factory.
    for (const file of ['src/connections/leaf-connection.ts', 'src/secrets/event-bus-secrets.ts', 'src/secrets/delivery.ts',
      'src/charts/cluster-chart.ts', 'src/charts/csc-chart.ts', 'src/charts/cpc-chart.ts', 'src/charts/fleet.ts']) {
      const body = code(fs.readFileSync(path.join(SRC, '..', file), 'utf8'));
      expect([file, /\b(validateCpcId|validateUniqueCpcIds|validateKeyStoreRequest)\b/.test(body)]).toEqual([file, false]);
    }
  });
});

/** A string literal: '…', "…" or a template `…` (one level). */
const STRING_LITERAL = /'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g;

/** The code without its string literals, so that a message naming a factory is not counted as a call. */
function codeWithoutStrings(text: string): string {
  return code(text).replace(STRING_LITERAL, '""');
}

/**
 * Where an id string becomes an `EventBusCluster` (a call of one of its
 * factories): the props or the file that carried it in. The CLI's
 * intermediate CAs take the file's checked clusters (fleetClusters) instead
 * of making their own.
 */
const CLUSTER_VALUE_ENTRY_POINTS: Record<string, number> = {
  'src/secrets/cluster.ts': 3, // csc() and cpc() of the public API, _ofDirectory's id
  'src/charts/fleet.ts': 2, // the fleet's cpcs[].id, addCpc's id
  'src/connections/leaf-connection.ts': 1, // LeafConnectionProps.cpcId
  'src/secrets/delivery.ts': 1, // sealedSecrets' certificates keys (cluster folders)
  'src/cli/fleet-file.ts': 1, // the fleet file's clusters[].id, before anything is read or written
};

describe('a CPC id becomes a value once, where it enters', () => {
  test('EventBusCluster\'s factories are called only in the entry-point modules, each the listed number of times', () => {
    const calls: Record<string, number> = {};
    for (const { file, text } of sources()) {
      const n = (codeWithoutStrings(text).match(/\bEventBusCluster\._?(csc|cpc|ofDirectory)\(/g) ?? []).length;
      if (n > 0) calls[file] = n;
    }
    expect(calls).toEqual(CLUSTER_VALUE_ENTRY_POINTS);
  });
});

describe('each default decided once', () => {
  test('a chart\'s mtls default is decided in one function (chartMtls, src/charts/options.ts); other constructs\' mtls props have their own', () => {
    const hits = sources().filter(({ text }) => /\.mtls\s*\?\?/.test(code(text))).map(({ file }) => file);
    // EventBusListenersOptions.mtls (gateway.ts) and EventBusSecretsProps.mtls are props of their own constructs, each with its @default.
    expect(hits.sort()).toEqual(['src/charts/options.ts', 'src/gateway/gateway.ts', 'src/secrets/event-bus-secrets.ts']);
  });

  test('cert-manager\'s cluster resource namespace is written once (caSecretNamespace, src/certificates/issuers.ts)', () => {
    const hits = sources().flatMap(({ file, text }) => (code(text).match(/'cert-manager'/g) ?? []).map(() => file));
    expect(hits).toEqual(['src/certificates/issuers.ts']);
  });

  test('the chart namespace default "dsx" is decided in one function (chartNamespace, src/charts/options.ts)', () => {
    const users = sources().filter(({ text }) => /\bDEFAULT_NAMESPACE\b/.test(code(text))).map(({ file }) => file);
    // names.ts defines it (and names it in its error's fix); certs.ts is the certs command's --namespace default.
    expect(users.sort()).toEqual(['src/charts/options.ts', 'src/cli/certs.ts', 'src/k8s/names.ts']);
  });

  test('a CPC\'s folder name (cpc-<id>) is made and read in one module: src/keys/layout.ts (cpcCluster, cpcIdOfCluster)', () => {
    // A string or a pattern that starts a folder name with cpc- builds or parses it
    // (not prose naming the form, `cpc-<id>`, nor the key store's step label 'cpc-sync').
    const hits = sources().flatMap(({ file, text }) => code(text).split('\n')
      .filter((line) => /['`]cpc-(?!<|sync')|\^cpc-|\.slice\(4\)/.test(line)).map((line) => `${file}: ${line.trim()}`));
    expect(hits).toEqual(['src/keys/layout.ts: const CPC_DIRECTORY_PREFIX = \'cpc-\';']);
  });

  test('the leafnode port 7422 is written once in src/: NATS_LEAFNODE_PORT', () => {
    const hits = sources().flatMap(({ file, text }) => text.split('\n')
      .map((line, i) => ({ where: `${file}:${i + 1}`, line }))
      .filter(({ line }) => /(?<![0-9])7422(?![0-9])/.test(line)));
    expect(hits.map((h) => h.where)).toHaveLength(1);
    expect(hits[0].where).toMatch(/^src\/endpoint\.ts:/);
    expect(hits[0].line).toMatch(/^export const NATS_LEAFNODE_PORT = 7422;$/);
  });

  test('the gateway transport default is resolved in one module (src/gateway/gateway.ts, resolveTransport)', () => {
    // A default is `transport ?? …` or `?? GatewayTransport.…`; everything else asks resolveTransport or the gateway.
    const pattern = /\btransport\s*\?\?|\?\?\s*GatewayTransport\.|\btransport\s*\|\|/g;
    const hits = sources().flatMap(({ file, text }) => (code(text).match(pattern) ?? []).map(() => file));
    expect(hits).toEqual(['src/gateway/gateway.ts']);
    const gateway = code(fs.readFileSync(path.join(SRC, 'gateway', 'gateway.ts'), 'utf8'));
    expect(gateway).toMatch(/export function resolveTransport\(transport: GatewayTransport \| undefined\): GatewayTransport \{\n\s*return transport \?\? GatewayTransport\.TLS;/);
  });
});

describe('errors mapped at the boundary', () => {
  test('no construct module words a message in fleet-file terms: the CLI re-words them (src/cli/file-terms.ts)', () => {
    // The string literals of the construct folders: a message naming the fleet file, or its keys, belongs to the CLI.
    // (src/files/, the output layer both share, may say "props or a fleet file".)
    const constructs = /^src\/(certificates|secrets|gateway|connections|charts|keys|gitops)\//;
    const strings = (text: string) => code(text).match(STRING_LITERAL) ?? [];
    const hits = sources().filter(({ file }) => constructs.test(file))
      .flatMap(({ file, text }) => strings(text).filter((s) => /fleet file|fleet\.yaml|mtlsCertsDirectory|certificatesDirectory|clusters\[/.test(s)).map((s) => `${file}: ${s.slice(0, 80)}`));
    expect(hits).toEqual([]);
  });
});
