import { Testing, Yaml } from 'cdk8s';
import {
  CertificateIssuer, ClusterCertificates, EventBusFleet, LeafTrust, SecretsDelivery,
} from '../../src';
import { manifestYaml } from '../../src/charts/manifest-yaml';
import { DeterministicKeyStore } from '../../src/testing';
import { tlsFixture } from '../secrets/tls-fixture';

/** Strings that need quoting, a block, or nothing, under YAML 1.1 as the yaml library writes it. */
const TRICKY = [
  '', ' ', ' a', 'a ', 'a  b', '1', '-1', '+1', '0', '-0', '007', '0x1F', '0b101', '0o17', '1_000', '1:30', '1.5', '1e3', '.5', '.inf', '-.inf', '.nan', '.NaN',
  '2024-01-01', '2024-01-01T00:00:00Z', 'yes', 'Yes', 'YES', 'no', 'No', 'y', 'Y', 'n', 'N', 'on', 'On', 'off', 'OFF', 'true', 'True', 'false', 'FALSE',
  'null', 'Null', 'NULL', '~', '-', '-a', '- a', '--', '---', '---a', '...', 'a: b', 'a:', 'a:b', 'tls://x.example.com:7422', 'a #b', 'a#b', '#a', '@a', '`a',
  "'a", '"a', 'a"b', "a'b", 'a"b\'c', 'a\nb', 'a\n', '\na', 'a\tb', '[a]', '{a}', 'a,b', '*a', '&a', '!a', '|a', '>a', '%a', '?', '? a', 'a?', '<<', '=',
  'ü', 'über', 'a\\b', 'U0FBREtEMlZIUlo3Q09MUEgyNzYzQklaWDdQS1pDV1JaTE40RE1NQzRQNEE0N0syWlJDWU9DNlJJSQ==', '/a/b', '+a/b=', '9lives', 'e5', 'E5', 'x_y', 'a b c',
  'app.kubernetes.io/part-of', 'nack-user.nk', 'key=value', 'a=b c', 'a - b', 'a -b', 'server auth', '2160h', '1883', 'dsx-event-bus', 'nats://a:4222',
];

describe('manifestYaml', () => {
  test('equals Yaml.stringify for tricky strings as values, keys and list items, and for every shape', () => {
    const docs: Array<Record<string, unknown>> = [];
    for (const s of TRICKY) {
      docs.push({ v: s }, { [s || 'empty']: 'x' }, { [s]: 1 }, { l: [s, 'a'] }, { m: { n: s, [s]: [{ a: s, b: { c: s } }] } });
    }
    docs.push(
      { a: 0, b: -1, c: 1.5, d: 1e21, e: true, f: false, g: null, h: undefined, i: {}, j: [], k: [[1, 2]], l: [{}, []], m: Number.MAX_SAFE_INTEGER },
      { a: [{ b: [{ c: [{ d: 'e' }] }], f: { g: [] } }, 'x', 3, true] },
      { apiVersion: 'v1', kind: 'ConfigMap', data: { 'ca.crt': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' } },
    );
    for (const doc of docs) expect([doc, manifestYaml(doc)]).toEqual([doc, Yaml.stringify(doc)]);
  });

  test('equals Yaml.stringify for 2000 random strings of letters, digits and every YAML indicator', () => {
    const alphabet = 'aAeEnNyYoO019_-.:/+= #\'"\n\t?,[]{}!&*|>%@`~<\\ü';
    let seed = 12345;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    for (let i = 0; i < 2000; i++) {
      const s = Array.from({ length: 1 + rand(6) }, () => alphabet[rand(alphabet.length)]).join('');
      const doc = { [s]: s, l: [s, { [s]: [s] }] };
      expect([s, manifestYaml(doc)]).toEqual([s, Yaml.stringify(doc)]);
    }
  });

  test('equals Yaml.stringify for every object and the values of a fleet with labels, permissions, a PEM trust and host prerequisites', async () => {
    const tls = await tlsFixture();
    const fleet = new EventBusFleet(Testing.app(), 'fleet', {
      keys: new DeterministicKeyStore(),
      delivery: SecretsDelivery.inline({ allowTestKeys: true }),
      extraAccounts: ['LaunchLayer'],
      metadata: { labels: { 'team': 'bus', 'example.com/tier': '1' } },
      hostPrerequisites: true,
      certificates: ClusterCertificates.issuer(CertificateIssuer.fromIssuerName('event-bus-certificate-issuer')),
      cscTrust: LeafTrust.fromPem(tls.caCrt),
      csc: { gateway: { hostnames: ['csc.example.com'], ipAddresses: ['10.0.0.1'] } },
      cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }, { id: '2', gateway: { transport: undefined, hostnames: ['cpc-2.example.com'] } }],
    });
    let n = 0;
    for (const chart of fleet.charts) {
      for (const obj of chart.toJson()) {
        expect(manifestYaml(obj)).toBe(Yaml.stringify(obj));
        n++;
      }
      expect(manifestYaml(chart.helmValues())).toBe(Yaml.stringify(chart.helmValues()));
    }
    expect(n).toBeGreaterThan(40);
  });
});
