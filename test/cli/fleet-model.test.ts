import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import { fileFormSwaps } from '../../scripts/fleet-schema';
import {
  CertificateAuthority, ClusterCertificates, GitOps, ICertificateIssuer, ITlsSecretSource, LeafTrust, MtlsServerTls, SecretsDelivery,
  ServerCertificate,
} from '../../src';
import { CaDoc, CertificatesSpec, DeliveryDoc, DurationText, FileForm, FleetDoc, GitOpsDoc, IssuerDoc, KeysDoc, LeafTrustDoc, TlsSecretName } from '../../src/cli/fleet-doc';
import { fleetSchema } from '../../src/cli/fleet-file';
import { IKeyStore } from '../../src/keys/store';
import { fleetFieldDeclarations, schemaFieldPaths } from '../util/fleet-declarations';

const SRC = path.join(__dirname, '..', '..', 'src');

/** true when A and B are the same type (checked by tsc: `npx tsc -p tsconfig.dev.json` covers the tests). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Row<P, F> = { props: P; file: F; same: Same<FileForm<P>, F> };
// The TypeScript compiler applies FileForm's table by structure; the schema script applies it by name: both must agree.
const TABLE: { [name: string]: { same: true } } = {
  Duration: {} as Row<Duration, DurationText>,
  ITlsSecretSource: {} as Row<ITlsSecretSource, TlsSecretName>,
  SecretsDelivery: {} as Row<SecretsDelivery, DeliveryDoc>,
  LeafTrust: {} as Row<LeafTrust, LeafTrustDoc>,
  ClusterCertificates: {} as Row<ClusterCertificates, FileForm<CertificatesSpec>>,
  CertificateAuthority: {} as Row<CertificateAuthority, CaDoc>,
  ICertificateIssuer: {} as Row<ICertificateIssuer, IssuerDoc>,
  GitOps: {} as Row<GitOps, GitOpsDoc>,
  IKeyStore: {} as Row<IKeyStore, KeysDoc>,
  MtlsServerTls: {} as Row<MtlsServerTls, never>,
};
// A ServerCertificate (a TLS Secret source) is written as its Secret's name, as the file's gateway says.
const SERVER_TLS: Same<NonNullable<NonNullable<FleetDoc['gateway']>['serverTlsSecret']>, string> = true;

describe('one fleet model: each field of the fleet file is declared once', () => {
  test('FileForm\'s table, as the schema script reads it, is the one the compiler applies', () => {
    expect(fileFormSwaps().map((r) => r.propsType).sort()).toEqual(Object.keys(TABLE).sort());
    expect(SERVER_TLS).toBe(true);
    expect(ServerCertificate.fromSecretName(Testing.app(), 'Tls', 'x').tlsSecretName).toBe('x');
  });

  const declarations = fleetFieldDeclarations();
  const fields = schemaFieldPaths(fleetSchema() as Record<string, unknown>);

  test('every field of the schema is a declared member of FleetDoc, and every member a field of the schema', () => {
    expect(fields.length).toBeGreaterThan(100);
    expect(fields.filter((f) => !declarations.has(f))).toEqual([]);
    expect([...declarations.keys()].filter((f) => !fields.includes(f))).toEqual([]);
  });

  test('each field is declared in exactly one place (its props, or the file form of its type, or the file alone)', () => {
    const twice = fields.filter((f) => declarations.get(f)!.length !== 1).map((f) => `${f}: ${declarations.get(f)!.join(', ')}`);
    expect(twice).toEqual([]);
    // The props are the source: most fields are declared outside the file model.
    const inModel = fields.filter((f) => declarations.get(f)![0].startsWith('src/cli/fleet-doc.ts'));
    expect(inModel.length).toBeLessThan(fields.length / 4);
  });

  test('the count sees a field that a file model declares again beside the props it omits', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-model-'));
    const from = (p: string) => path.relative(dir, path.join(SRC, p)).split(path.sep).join('/');
    const model = path.join(dir, 'model.ts');
    fs.writeFileSync(model, [
      `import type { CertificatesSpec } from '${from('cli/fleet-doc')}';`,
      `import type { FleetCpcOptions } from '${from('charts/fleet')}';`,
      'export type FleetDoc = Omit<CertificatesSpec, \'duration\' | \'issuer\'> & { readonly duration?: string; readonly cpc?: Pick<FleetCpcOptions, \'id\'> & { readonly id?: number } };',
    ].join('\n'));
    try {
      const counted = fleetFieldDeclarations(model);
      expect(counted.get('duration')).toEqual([expect.stringMatching(/model\.ts:3$/), 'src/certificates/cluster-certificates.ts:' + lineOf('certificates/cluster-certificates.ts', 'readonly duration?: Duration;')]);
      expect(counted.get('cpc.id')).toHaveLength(2);
      expect(counted.get('selfSigned')).toHaveLength(1);
      expect(counted.has('issuer')).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function lineOf(file: string, text: string): number {
  return fs.readFileSync(path.join(SRC, file), 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}
