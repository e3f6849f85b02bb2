/**
 * The CPC's leaf TLS values against the real chart: `helm template` of the
 * upstream nats-event-bus chart (DSX_UPSTREAM_CHART) with the library's
 * values.event-bus.yaml. Proves that the rendered leafnodes.conf starts every
 * remote with the TLS handshake and names a CA file, and that the nats
 * StatefulSet mounts the library's ConfigMap/Secret at exactly that path.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { CertificateIssuer, ClusterCertificates, CpcChart, EventBusFleet, EventBusFleetProps, GatewayTransport, LeafTrust, SecretsDelivery } from '../../src';
import { main } from '../../src/cli/run';
import { DeterministicKeyStore } from '../../src/testing';
import { tlsFixture } from '../secrets/tls-fixture';
import { chartMissing, HELM_BIN, helmMissing, toolTest, UPSTREAM_CHART } from '../util/tools';

const missing = [helmMissing(), chartMissing()];

function fleet(extra: Partial<EventBusFleetProps>): EventBusFleet {
  return new EventBusFleet(Testing.app(), 'fleet', {
    keys: new DeterministicKeyStore(),
    delivery: SecretsDelivery.inline({ allowTestKeys: true }),
    extraAccounts: ['LaunchLayer'],
    certificates: ClusterCertificates.issuer(CertificateIssuer.fromIssuerName('event-bus-certificate-issuer')),
    csc: { gateway: { hostnames: ['csc.example.com'] } },
    cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
    ...extra,
  });
}

/** `helm template` of the real chart with a values file; every rendered object. */
function helmTemplate(valuesFile: string, namespace: string): any[] {
  const out = execFileSync(HELM_BIN, ['template', 'nats-event-bus', UPSTREAM_CHART!, '-n', namespace, '-f', valuesFile], { encoding: 'utf8', stdio: 'pipe' });
  return YAML.parseAllDocuments(out).map((d) => d.toJSON()).filter((o) => o);
}

/** `helm template` of the real chart with the chart's values file. */
function render(chart: CpcChart): any[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-trust-helm-'));
  try {
    const values = path.join(dir, 'values.event-bus.yaml');
    fs.writeFileSync(values, chart.valuesYaml());
    return helmTemplate(values, chart.releaseNamespace);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Each leaf remote block of the rendered leafnodes.conf. */
function remotes(objects: any[]): string[] {
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'nats-leafnodes-config');
  const conf: string = cm.data['leafnodes.conf'];
  return conf.split(/\n\s*\{\s*\n/).slice(1);
}

/** The CA volume of the nats StatefulSet and where its nats container mounts it. */
function caMount(objects: any[]): { volume: any; mountPath?: string } {
  const sts = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats');
  const pod = sts.spec.template.spec;
  const container = pod.containers.find((c: any) => c.name === 'nats');
  const mount = container.volumeMounts.find((m: any) => m.name === 'tls-ca');
  return { volume: pod.volumes.find((v: any) => v.name === 'tls-ca'), mountPath: mount?.mountPath };
}

describe('CPC leaf TLS with the real chart', () => {
  toolTest('fromPem: every remote has handshake_first and ca_file, and ca_file is the mounted ConfigMap key', missing, async () => {
    const tls = await tlsFixture();
    const f = fleet({ cscTrust: LeafTrust.fromPem(tls.caCrt) });
    const cpc = f.cpc('1');
    const objects = render(cpc);
    const blocks = remotes(objects);
    expect(blocks).toHaveLength(2); // CSC and LaunchLayer
    for (const block of blocks) {
      expect(block).toMatch(/urls: \["tls:\/\/csc\.example\.com:7422"\]/);
      expect(block).toMatch(/tls: \{[^}]*handshake_first: true[^}]*\}/);
      expect(block).toMatch(/tls: \{[^}]*ca_file: "\/etc\/nats-ca-cert\/ca\.crt"[^}]*\}/);
    }
    const { volume, mountPath } = caMount(objects);
    const libraryCm = cpc.toJson().find((o: any) => o.kind === 'ConfigMap');
    expect(volume).toEqual({ name: 'tls-ca', configMap: { name: libraryCm.metadata.name } });
    // ca_file = mount directory + a key the library's ConfigMap holds.
    expect(`${mountPath}/ca.crt`).toBe('/etc/nats-ca-cert/ca.crt');
    expect(Object.keys(libraryCm.data)).toEqual(['ca.crt']);
    // The chart renders no ConfigMap of that name itself.
    expect(objects.filter((o) => o.metadata?.name === libraryCm.metadata.name)).toEqual([]);
    // The CA adds no ca_file to the main instance's TLS settings (it has none enabled).
    const natsConfig = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'nats-config').data['nats.conf'];
    expect(natsConfig).not.toMatch(/nats-ca-cert/);
  }, 60_000);

  toolTest('fromExistingSecret: the Secret is mounted at the directory of ca_file with its key', missing, async () => {
    const cpc = fleet({ cscTrust: LeafTrust.fromExistingSecret('vault-pki-ca', 'issuing_ca') }).cpc('1');
    const objects = render(cpc);
    for (const block of remotes(objects)) {
      expect(block).toMatch(/handshake_first: true/);
      expect(block).toMatch(/ca_file: "\/etc\/nats-ca-cert\/issuing_ca"/);
    }
    const { volume, mountPath } = caMount(objects);
    expect(volume).toEqual({ name: 'tls-ca', secret: { secretName: 'vault-pki-ca' } });
    expect(mountPath).toBe('/etc/nats-ca-cert');
  }, 60_000);

  toolTest('publicRoots: handshake_first without ca_file, nothing mounted', missing, async () => {
    const objects = render(fleet({ cscTrust: LeafTrust.publicRoots() }).cpc('1'));
    for (const block of remotes(objects)) {
      expect(block).toMatch(/handshake_first: true/);
      expect(block).not.toMatch(/ca_file/);
    }
    expect(caMount(objects)).toEqual({ volume: undefined, mountPath: undefined });
  }, 60_000);

  toolTest('the demo (examples/fleet.yaml via dsx-event-bus synth): each CPC mounts the fleet CA ConfigMap the synth wrote', missing, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-trust-demo-'));
    try {
      const example = path.join(__dirname, '..', '..', 'examples', 'fleet.yaml');
      let err = '';
      const code = await main(['synth', '-c', example, '--secrets', path.join(dir, 'secrets'), '--generate-missing', '-o', path.join(dir, 'dist')],
        { out: () => undefined, err: (t) => { err += t; } });
      expect({ code, err }).toEqual({ code: 0, err: '' });
      const fleetCa = fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.crt'), 'utf8');
      for (const cpc of ['cpc-1', 'cpc-2']) {
        const objects = helmTemplate(path.join(dir, 'dist', cpc, 'values.event-bus.yaml'), 'dsx');
        for (const block of remotes(objects)) {
          expect(block).toMatch(/urls: \["tls:\/\/csc\.event-bus\.example\.com:7422"\]/);
          expect(block).toMatch(/handshake_first: true/);
          expect(block).toMatch(/ca_file: "\/etc\/nats-ca-cert\/ca\.crt"/);
        }
        const { volume, mountPath } = caMount(objects);
        expect(mountPath).toBe('/etc/nats-ca-cert');
        const manifest = path.join(dir, 'dist', cpc, 'manifests', `ConfigMap.dsx.${volume.configMap.name}.k8s.yaml`);
        expect(YAML.parse(fs.readFileSync(manifest, 'utf8')).data['ca.crt']).toBe(fleetCa);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  toolTest('transport tcp: a nats:// remote without a tls block', missing, async () => {
    const objects = render(fleet({ gateway: { transport: GatewayTransport.TCP } }).cpc('1'));
    const blocks = remotes(objects);
    expect(blocks).toHaveLength(2);
    for (const block of blocks) {
      expect(block).toMatch(/urls: \["nats:\/\/csc\.example\.com:7422"\]/);
      expect(block).not.toMatch(/tls/);
    }
    expect(caMount(objects).volume).toBeUndefined();
  }, 60_000);
});
