import { Chart, Testing } from 'cdk8s';
import { CertificateIssuer, GatewayTransport, EventBusGateway, MtlsServerCertificate, RouteApiVersion, RouteRendering } from '../../src';
import { EventBusError } from '../../src/errors';
import { validateManifests } from '../util/schema';

const issuer = CertificateIssuer.fromIssuerName('event-bus-certificate-issuer');

interface Case {
  readonly externalHostnames: string[];
  readonly mtlsHostnames?: string[];
  readonly clientUrls: string[];
  readonly version?: RouteApiVersion;
}

function synth(k: Case) {
  const c = new Chart(Testing.app(), 'test', { namespace: 'dsx' });
  const mtls = new MtlsServerCertificate(c, 'MtlsCert', { issuer, externalHostnames: k.externalHostnames });
  EventBusGateway.withEventBusListeners(c, 'Gw', {
    transport: GatewayTransport.TCP,
    routeApiVersion: k.version,
    routeRendering: k.version === RouteApiVersion.V1 ? RouteRendering.MANIFESTS : undefined,
    mtlsHostnames: k.mtlsHostnames,
    mtlsServerCertificate: mtls,
    mtlsClientUrls: k.clientUrls,
  });
  return { c, mtls, run: () => Testing.synth(c) };
}

describe('mTLS hostname agreement', () => {
  test.each<[string, Case]>([
    ['a DNS name in SANs, route hostnames and URL', { externalHostnames: ['mqtt-mtls.example.com'], mtlsHostnames: ['mqtt-mtls.example.com'], clientUrls: ['mqtts://mqtt-mtls.example.com:8883'] }],
    ['wildcards in the SANs and route hostnames', { externalHostnames: ['*.mtls.example.com'], mtlsHostnames: ['*.mtls.example.com'], clientUrls: ['ssl://csc.mtls.example.com:8883'] }],
    ['no route hostnames (v1alpha2 matches any SNI)', { externalHostnames: ['mqtt-mtls.example.com'], clientUrls: ['mqtts://mqtt-mtls.example.com'] }],
    ['an IP in the SANs, no route hostnames (the local evaluation)', { externalHostnames: ['172.18.200.1'], clientUrls: ['mqtts://172.18.200.1:8883'] }],
    ['an IPv6 literal written differently', { externalHostnames: ['2001:db8::1'], clientUrls: ['mqtts://[2001:db8:0:0::1]:8883'] }],
    ['several URLs, one per name', { externalHostnames: ['a.example.com', 'b.example.com'], mtlsHostnames: ['a.example.com', 'b.example.com'], clientUrls: ['mqtts://a.example.com:8883', 'tls://b.example.com:8883'] }],
    ['route API v1', { externalHostnames: ['mqtt-mtls.example.com'], mtlsHostnames: ['mqtt-mtls.example.com'], clientUrls: ['mqtts://mqtt-mtls.example.com:8883'], version: RouteApiVersion.V1 }],
  ])('agrees: %s', (_name, k) => {
    const { run } = synth(k);
    expect(validateManifests(run())).toBeGreaterThan(0);
  });

  test('fails when the URL host is not a certificate SAN, naming all three values', () => {
    const { run } = synth({ externalHostnames: ['mqtt-mtls.example.com'], mtlsHostnames: ['mqtt.example.com'], clientUrls: ['mqtts://mqtt.example.com:8883'] });
    expect(run).toThrow(new RegExp([
      '\\[test/Gw/mqtt-mtls/MqttMtls\\] mTLS hostname agreement fails:',
      'client URL host "mqtt.example.com" \\(from "mqtts://mqtt.example.com:8883"\\),',
      'server certificate SANs \\["nats-mtls", "nats-mtls.dsx", "nats-mtls.dsx.svc", "nats-mtls.dsx.svc.cluster.local", "mqtt-mtls.example.com"\\] \\(test/MtlsCert\\),',
      'TLSRoute hostnames \\["mqtt.example.com"\\]\\.',
      'No certificate SAN covers "mqtt.example.com", so clients fail server name verification\\.',
      'Allowed: .* Fix: add "mqtt.example.com" to the certificate\'s dnsNames',
    ].join(' ').replace(/ \.\* /g, '.*')));
  });

  test('fails when no TLSRoute hostname matches the URL host', () => {
    const { run } = synth({ externalHostnames: ['mqtt-mtls.example.com', 'other.example.com'], mtlsHostnames: ['other.example.com'], clientUrls: ['mqtts://mqtt-mtls.example.com:8883'] });
    expect(run).toThrow(/client URL host "mqtt-mtls.example.com".*TLSRoute hostnames \["other.example.com"\]\. No TLSRoute hostname matches the SNI "mqtt-mtls.example.com", so the gateway resets the connection\. .*Fix: add "mqtt-mtls.example.com" to the route's hostnames/);
  });

  test('fails when clients connect by an IP the certificate lacks', () => {
    const { run } = synth({ externalHostnames: ['mqtt-mtls.example.com'], clientUrls: ['mqtts://172.18.200.1:8883'] });
    expect(run).toThrow(/client URL host "172.18.200.1".*TLSRoute hostnames \[\] \(none\)\. The certificate has no IP SAN "172.18.200.1", so clients connecting by IP fail certificate verification/);
  });

  test('fails when clients connect by IP but the TLSRoute has hostnames (no SNI is sent)', () => {
    const { run } = synth({ externalHostnames: ['172.18.200.1', 'mqtt-mtls.example.com'], mtlsHostnames: ['mqtt-mtls.example.com'], clientUrls: ['mqtts://172.18.200.1:8883'] });
    expect(run).toThrow(/A client connecting to an IP address sends no SNI, and a TLSRoute with hostnames only matches connections whose SNI matches one of them/);
  });

  test('fails when the URL port is not the listener port', () => {
    const { run } = synth({ externalHostnames: ['m.example.com'], clientUrls: ['mqtts://m.example.com:1883'] });
    expect(run).toThrow(/The URL's port 1883 is not the listener's port 8883\. Allowed: port 8883/);
  });

  // Found by test/proof/fuzz.test.ts: a plain Error here made the CLI report a crash.
  test.each(['mqtts://m.example.com:65536', 'm.example.com:8883', 'mqtts://'])('fails with our error when a client URL is not a URL with a host (%s)', (clientUrl) => {
    const attempt = () => synth({ externalHostnames: ['m.example.com'], clientUrls: [clientUrl] });
    expect(attempt).toThrow(EventBusError);
    expect(attempt).toThrow(/test\/Gw\/mqtt-mtls\/MqttMtls: client URL ".*" is not a URL with a host\. Allowed: URLs such as "mqtts:\/\/mqtt-mtls\.example\.com:8883"/);
  });

  test('a wildcard SAN covers one label only, as TLS name checks do', () => {
    const { run } = synth({ externalHostnames: ['*.example.com'], clientUrls: ['mqtts://a.b.example.com:8883'] });
    expect(run).toThrow(/No certificate SAN covers "a.b.example.com"/);
  });

  test('is checked at synthesis, so a SAN added after the gateway counts', () => {
    const { run, mtls } = synth({ externalHostnames: ['mqtt-mtls.example.com'], clientUrls: ['mqtts://late.example.com:8883'] });
    expect(run).toThrow(/No certificate SAN covers "late.example.com"/);
    mtls.addDnsName('late.example.com');
    expect(run).not.toThrow();
  });
});
