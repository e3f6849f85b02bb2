import { Chart, Testing } from 'cdk8s';
import {
  AllowedRoutes, CertificateIssuer, GatewayTransport, EventBusGateway, RouteApiVersion, RouteBackend, RouteRendering,
  ServerCertificate,
} from '../../src';

const cert = ServerCertificate.fromSecretName(Testing.app(), 'Tls', 'event-bus-server-tls-certificate');

function chart(namespace: string | null = 'dsx') {
  return new Chart(Testing.app(), 'test', { namespace: namespace ?? undefined });
}

function gateway(props: ConstructorParameters<typeof EventBusGateway>[2] = {}, namespace: string | null = 'dsx') {
  const c = chart(namespace);
  return { c, gw: new EventBusGateway(c, 'Gw', props) };
}

const manifests = () => ({ routeRendering: RouteRendering.MANIFESTS });

describe('listener rules', () => {
  test.each(['MQTT', 'mqtt_tls', '-mqtt', 'mqtt-', '', 'a'.repeat(254)])('fails when the listener name %j is not a section name', (name) => {
    const { gw } = gateway();
    expect(() => gw.addTcpListener(name, { port: 1883 }))
      .toThrow(/test\/Gw: listener name ".*" is not a valid Gateway API section name\. Allowed: lower-case letters, digits, '-' and '\.'.*sectionName/);
    expect(gw.listeners).toHaveLength(0);
  });

  test('fails when a listener name is used twice (and the gateway keeps the first)', () => {
    const { gw } = gateway();
    gw.addTcpListener('mqtt', { port: 1883 });
    expect(() => gw.addTlsPassthroughListener('mqtt', { port: 8883 })).toThrow(/test\/Gw\/mqtt: listener name "mqtt" is used twice\. Allowed: unique listener names/);
    expect(gw.listeners.map((l) => l.port)).toEqual([1883]);
  });

  test('fails when two TCP listeners share a port', () => {
    const { gw } = gateway();
    gw.addTcpListener('a', { port: 1883 });
    expect(() => gw.addTcpListener('b', { port: 1883 }))
      .toThrow(/port 1883 is already used by listener "a" \(TCP on port 1883\); two TCP listeners cannot share a port/);
  });

  test('fails when TCP and TLS listeners share a port', () => {
    const { gw } = gateway();
    gw.addTcpListener('a', { port: 1883 });
    expect(() => gw.addTlsTerminateListener('b', { port: 1883, certificate: cert }))
      .toThrow(/port 1883 is already used by listener "a" \(TCP on port 1883\); TLS on the same port conflicts\. Allowed: one protocol per port/);
  });

  test('fails when TLS listeners share a port and hostname; distinct hostnames are fine', () => {
    const { gw } = gateway();
    gw.addTlsPassthroughListener('a', { port: 8883 });
    expect(() => gw.addTlsPassthroughListener('b', { port: 8883 })).toThrow(/port 8883 and no hostname are already used by listener "a"/);
    gw.addTlsPassthroughListener('c', { port: 8883, hostname: 'c.example.com' });
    gw.addTlsTerminateListener('d', { port: 8883, hostname: 'd.example.com', certificate: cert });
    expect(() => gw.addTlsTerminateListener('e', { port: 8883, hostname: 'c.example.com', certificate: cert }))
      .toThrow(/port 8883 and hostname "c.example.com" are already used by listener "c" \(TLS on port 8883, hostname "c.example.com"\)\. Allowed: TLS listeners on one port only with distinct hostnames/);
  });

  test.each([0, 65536, 80.5])('fails when the port is %p', (port) => {
    const { gw } = gateway();
    expect(() => gw.addTcpListener('a', { port })).toThrow(/test\/Gw\/a: listener port .* is not a TCP port\. Allowed: integers 1 to 65535/);
  });

  test('fails when a listener hostname is an IP address, explaining SNI', () => {
    const { gw } = gateway();
    expect(() => gw.addTlsPassthroughListener('mtls', { port: 8883, hostname: '172.18.200.1' }))
      .toThrow(/listener hostname "172.18.200.1" is an IP address\. .*TLS clients never send an IP address as SNI \(RFC 6066/);
  });

  test('fails when a terminate listener has no certificate (JavaScript callers)', () => {
    const { gw } = gateway();
    expect(() => gw.addTlsTerminateListener('mqtt', { port: 1883 } as any)).toThrow(/test\/Gw\/mqtt: a TLS-terminate listener needs a certificate/);
  });

  test('fails at synthesis when a listener has no route (Envoy rejects it)', () => {
    const { c, gw } = gateway();
    gw.addTcpListener('mqtt', { port: 1883 }).addRoute('R', { backend: RouteBackend.natsMqtt() });
    gw.addTlsPassthroughListener('mqtt-mtls', { port: 8883 });
    expect(() => Testing.synth(c)).toThrow(/\[test\/Gw\] listener "mqtt-mtls" \(test\/Gw\/mqtt-mtls\) has no route\. Envoy rejects TCP and TLS listeners without an attached route/);
  });

  test('fails at synthesis when the gateway has no listener', () => {
    const { c } = gateway();
    expect(() => Testing.synth(c)).toThrow(/\[test\/Gw\] the Gateway has no listeners\. Allowed: at least one/);
  });
});

describe('route rules', () => {
  test('fails when a TLSRoute hostname is an IP literal, with the SNI rule and the fix', () => {
    const { gw } = gateway();
    const l = gw.addTlsPassthroughListener('mqtt-mtls', { port: 8883 });
    expect(() => l.addTlsRoute('R', { backend: RouteBackend.natsMqttMtls(), hostnames: ['172.18.200.1'] }))
      .toThrow(new RegExp([
        'test/Gw/mqtt-mtls/R: TLSRoute hostname "172.18.200.1" is an IP address\\.',
        'Gateway API hostnames are matched against the TLS SNI, and TLS clients never send an IP address as SNI \\(RFC 6066 section 3',
        'Allowed: DNS names such as "mqtt.example.com"',
        'Fix: give the clients a DNS name that resolves to the gateway address .* leave the hostnames empty \\(route API v1alpha2 only\\) and put the IP in the server certificate\'s ipAddresses',
      ].join('.*')));
    expect(() => l.addTlsRoute('R6', { backend: RouteBackend.natsMqttMtls(), hostnames: ['2001:db8::1'] })).toThrow(/"2001:db8::1" is an IP address/);
    expect(l.routes).toHaveLength(0);
  });

  test('fails when a TLSRoute hostname is not a DNS name', () => {
    const { gw } = gateway();
    const l = gw.addTlsPassthroughListener('mqtt-mtls', { port: 8883 });
    expect(() => l.addTlsRoute('R', { backend: RouteBackend.natsMqttMtls(), hostnames: ['mqtt.Example.com'] }))
      .toThrow(/TLSRoute hostname "mqtt.Example.com" is not a valid DNS name\. .* Fix: write it as "mqtt.example.com"/);
    expect(() => l.addTlsRoute('R2', { backend: RouteBackend.natsMqttMtls(), hostnames: ['a.example.com', 'a.example.com'] }))
      .toThrow(/TLSRoute hostname "a.example.com" is listed twice/);
  });

  test('fails when a TCPRoute form is requested on a terminate listener under route API v1', () => {
    const { gw } = gateway({ ...manifests(), routeApiVersion: RouteApiVersion.V1 });
    const l = gw.addTlsTerminateListener('mqtt', { port: 1883, certificate: cert, hostname: 'mqtt.example.com' });
    expect(() => l.addTcpRoute('R', { backend: RouteBackend.natsMqtt() })).toThrow(new RegExp([
      'test/Gw/mqtt/R: a TCPRoute on TLS-terminate listener "mqtt" is the v1alpha2 pairing',
      'with route API v1 the Gateway API spec pairs a TLS listener in Terminate mode with TLSRoute',
      'Fix: call addRoute\\(id, \\{ backend, hostnames \\}\\) instead, or set routeApiVersion: RouteApiVersion.V1ALPHA2',
    ].join('.*')));
    // addRoute renders the v1 pairing, with the listener's hostname.
    const route = l.addRoute('R', { backend: RouteBackend.natsMqtt() });
    expect([route.kind, route.hostnames, route.apiVersion]).toEqual(['TLSRoute', ['mqtt.example.com'], 'gateway.networking.k8s.io/v1']);
  });

  test('fails when a v1 TLSRoute has no hostnames', () => {
    const { gw } = gateway({ ...manifests(), routeApiVersion: RouteApiVersion.V1 });
    expect(() => gw.addTlsTerminateListener('mqtt', { port: 1883, certificate: cert }).addRoute('R', { backend: RouteBackend.natsMqtt() }))
      .toThrow(/TLSRoute "nats-mqtt" has no hostnames, which gateway.networking.k8s.io\/v1 requires\. .* Fix: pass hostnames, or give listener "mqtt" a hostname/);
    expect(() => gw.addTlsPassthroughListener('mtls', { port: 8883 }).addTlsRoute('R', { backend: RouteBackend.natsMqttMtls() }))
      .toThrow(/TLSRoute "nats-mqtt-mtls" has no hostnames/);
  });

  test('fails when hostnames are given for a route that renders as TCPRoute', () => {
    const { gw } = gateway();
    expect(() => gw.addTlsTerminateListener('mqtt', { port: 1883, certificate: cert }).addRoute('R', { backend: RouteBackend.natsMqtt(), hostnames: ['a.example.com'] }))
      .toThrow(/hostnames \["a.example.com"\] are set on a route that renders as TCPRoute \(route API v1alpha2\), which has no hostnames/);
  });

  test('fails when route hostnames do not intersect the listener hostname', () => {
    const { gw } = gateway();
    const l = gw.addTlsPassthroughListener('mtls', { port: 8883, hostname: '*.example.com' });
    expect(() => l.addTlsRoute('R', { backend: RouteBackend.natsMqttMtls(), hostnames: ['mqtt.example.org'] }))
      .toThrow(/TLSRoute hostnames \["mqtt.example.org"\] do not intersect listener "mtls"'s hostname "\*.example.com"/);
    expect(l.addTlsRoute('Ok', { backend: RouteBackend.natsMqttMtls(), hostnames: ['mqtt.example.com'] }).hostnames).toEqual(['mqtt.example.com']);
  });

  test('fails when the listener admits its own namespace only and the route lives elsewhere', () => {
    const { gw } = gateway({ ...manifests(), metadata: { namespace: 'envoy-gateway-system' } });
    const l = gw.addTcpListener('mqtt', { port: 1883, allowedRoutes: AllowedRoutes.sameNamespace() });
    expect(() => l.addRoute('R', { backend: RouteBackend.natsMqtt() }))
      .toThrow(/route namespace "dsx" is not the Gateway's namespace "envoy-gateway-system", and listener "mqtt" admits routes from its own namespace only/);
    expect(l.addRoute('R', { backend: RouteBackend.natsMqtt(), metadata: { namespace: 'envoy-gateway-system' } }).namespace).toBe('envoy-gateway-system');
  });

  test('fails when two routes of one kind have the same name and namespace (manifest rendering)', () => {
    const { gw } = gateway(manifests());
    gw.addTcpListener('a', { port: 1 }).addRoute('R', { backend: RouteBackend.service('x', 1), metadata: { name: 'same' } });
    expect(() => gw.addTcpListener('b', { port: 2 }).addRoute('R', { backend: RouteBackend.service('y', 2), metadata: { name: 'same' } }))
      .toThrow(/a TCPRoute named "same" already exists in this namespace \(test\/Gw\/a\/R\)/);
  });

  test('fails when the backend is missing or invalid', () => {
    const { gw } = gateway();
    const l = gw.addTcpListener('a', { port: 1 });
    expect(() => l.addRoute('R', {} as any)).toThrow(/test\/Gw\/a\/R: backend is missing\. Allowed: a RouteBackend/);
    expect(() => RouteBackend.service('Nats', 4222)).toThrow(/RouteBackend.service\(\): Service name "Nats" is invalid/);
    expect(() => RouteBackend.service('nats', 70000)).toThrow(/Service port 70000 is not a TCP port/);
  });

  test('fails when hostname agreement inputs are incomplete or the URL is malformed', () => {
    const { c, gw } = gateway();
    const l = gw.addTlsPassthroughListener('mtls', { port: 8883 });
    const mtls = new ServerCertificate(c, 'Cert', { issuer: CertificateIssuer.fromIssuerName('i'), dnsNames: ['m.example.com'] });
    expect(() => l.addTlsRoute('R', { backend: RouteBackend.natsMqttMtls(), serverCertificate: mtls }))
      .toThrow(/hostname agreement needs both serverCertificate and clientUrls\. Fix: pass clientUrls/);
    expect(() => l.addTlsRoute('R', { backend: RouteBackend.natsMqttMtls(), clientUrls: ['mqtts://m.example.com:8883'] }))
      .toThrow(/Fix: pass serverCertificate/);
    expect(() => l.addTlsRoute('R', { backend: RouteBackend.natsMqttMtls(), serverCertificate: mtls, clientUrls: ['m.example.com:8883'] }))
      .toThrow(/client URL "m.example.com:8883" is not a URL with a host\. Allowed: URLs such as "mqtts:\/\/mqtt-mtls.example.com:8883"/);
  });
});

describe('Helm-values rendering: only the chart\'s four routes are expressible', () => {
  const switchHint = /Fix: .*switch the gateway to routeRendering: RouteRendering.MANIFESTS/;

  test('fails when the backend is not one of the chart\'s routes', () => {
    const { gw } = gateway();
    expect(() => gw.addTcpListener('a', { port: 9000 }).addRoute('R', { backend: RouteBackend.service('other', 9000) }))
      .toThrow(/backend other:9000 is not one of the upstream chart's routes.*Allowed: the chart's routes: nats-mqtt -> nats:1883, nats-client -> nats:4222, nats-leafnode -> nats:7422, nats-mqtt-mtls -> nats-mtls:1883/);
    expect(() => gw.addTcpListener('b', { port: 9001 }).addRoute('R', { backend: RouteBackend.service('nats', 1883, { namespace: 'other' }) }))
      .toThrow(switchHint);
  });

  test('fails when the route name differs from the chart\'s', () => {
    const { gw } = gateway();
    expect(() => gw.addTcpListener('mqtt', { port: 1883 }).addRoute('R', { backend: RouteBackend.natsMqtt(), metadata: { name: 'my-mqtt' } }))
      .toThrow(/route name "my-mqtt" differs from the name the chart gives the route for nats:1883 \("nats-mqtt"\)\. Allowed: "nats-mqtt"/);
  });

  test('fails when a route namespace is set', () => {
    const { gw } = gateway();
    expect(() => gw.addTcpListener('mqtt', { port: 1883 }).addRoute('R', { backend: RouteBackend.natsMqtt(), metadata: { namespace: 'apps' } }))
      .toThrow(/route namespace "apps" is set, but the chart creates its routes in its release namespace/);
  });

  test('fails when a chart route is used twice', () => {
    const { gw } = gateway();
    gw.addTcpListener('mqtt', { port: 1883 }).addRoute('R', { backend: RouteBackend.natsMqtt() });
    expect(() => gw.addTcpListener('mqtt2', { port: 1884 }).addRoute('R', { backend: RouteBackend.natsMqtt() }))
      .toThrow(/the chart's route "nats-mqtt" \(values key mqtt\) is already used by test\/Gw\/mqtt\/R/);
  });

  test('fails when route API v1 is combined with Helm-values rendering', () => {
    expect(() => gateway({ routeApiVersion: RouteApiVersion.V1 }))
      .toThrow(/routeApiVersion v1 cannot be expressed in the upstream chart's Helm values: the chart creates its routes as gateway.networking.k8s.io\/v1alpha2.*Fix: set routeRendering: RouteRendering.MANIFESTS/);
  });

  test('fails when the gateway namespace is unknown', () => {
    expect(() => gateway({}, null)).toThrow(/test\/Gw: the Gateway's namespace is unknown, and the chart's route values need it \(gatewayNamespace\)/);
  });
});

describe('DSX defaults', () => {
  test('fails when TLS transport has no certificate', () => {
    expect(() => EventBusGateway.withEventBusListeners(chart(), 'Gw')).toThrow(/test\/Gw: certificate: transport TLS needs a certificate for the TLS-terminate listeners\. .* Fix: pass certificate, or use transport: GatewayTransport.TCP/);
  });

  test('fails when TCP transport is given a certificate or hostnames', () => {
    expect(() => EventBusGateway.withEventBusListeners(chart(), 'Gw', { transport: GatewayTransport.TCP, certificate: cert })).toThrow(/certificate is set but transport is TCP/);
    expect(() => EventBusGateway.withEventBusListeners(chart(), 'Gw', { transport: GatewayTransport.TCP, hostnames: ['a.example.com'] })).toThrow(/hostnames are set but transport is TCP/);
  });

  test('fails when mTLS options are given with mTLS disabled', () => {
    expect(() => EventBusGateway.withEventBusListeners(chart(), 'Gw', { transport: GatewayTransport.TCP, mtls: false, mtlsHostnames: ['m.example.com'] }))
      .toThrow(/mTLS options are set but mtls is false/);
  });

  test('fails when added twice', () => {
    const gw = EventBusGateway.withEventBusListeners(chart(), 'Gw', { transport: GatewayTransport.TCP });
    expect(() => gw.addEventBusListeners({ transport: GatewayTransport.TCP })).toThrow(/the event bus listeners were added already/);
  });
});
