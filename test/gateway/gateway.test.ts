import { ApiObject, Testing } from 'cdk8s';
import {
  AllowedRoutes, CertificateIssuer, GatewayTransport, EnvoyServiceType, EventBusEnvoyProxy, EventBusGateway,
  MtlsServerCertificate, RouteApiVersion, RouteBackend, RouteRendering, ServerCertificate,
} from '../../src';
import { standardLabels, testChart } from '../util/labels';
import { validateManifests } from '../util/schema';
import { findSeeds } from '../util/seeds';

const issuer = CertificateIssuer.fromIssuerName('event-bus-certificate-issuer');

/** The standard labels of every gateway object. */
const GATEWAY_LABELS = standardLabels('gateway');

const chart = testChart;

interface Variant {
  readonly transport: GatewayTransport;
  readonly mtls: boolean;
  readonly version: RouteApiVersion;
}

/** The DSX default gateway as the charts compose it, with manifest rendering so the routes show. */
function dsxGateway(v: Variant, rendering = RouteRendering.MANIFESTS) {
  const c = chart();
  const certificate = v.transport === GatewayTransport.TLS
    ? new ServerCertificate(c, 'ServerCert', { issuer, dnsNames: ['event-bus.example.com'] })
    : undefined;
  const gateway = EventBusGateway.withEventBusListeners(c, 'Gateway', {
    transport: v.transport,
    certificate,
    mtls: v.mtls,
    mtlsHostnames: v.mtls && v.version === RouteApiVersion.V1 ? ['mqtt-mtls.example.com'] : undefined,
    routeApiVersion: v.version,
    routeRendering: rendering,
  });
  return { c, gateway };
}

const VARIANTS: Variant[] = [];
for (const transport of [GatewayTransport.TLS, GatewayTransport.TCP]) {
  for (const mtls of [true, false]) {
    for (const version of [RouteApiVersion.V1ALPHA2, RouteApiVersion.V1]) VARIANTS.push({ transport, mtls, version });
  }
}

describe('EventBusGateway.withEventBusListeners', () => {
  test.each(VARIANTS)('synthesizes the DSX gateway: transport $transport, mTLS $mtls, routes $version', (v) => {
    const { c, gateway } = dsxGateway(v);
    const manifests = Testing.synth(c);
    // Certificate (TLS) + EnvoyProxy + Gateway + 3 or 4 routes, all valid against the pinned CRDs.
    expect(validateManifests(manifests)).toBe((v.transport === GatewayTransport.TLS ? 1 : 0) + 2 + (v.mtls ? 4 : 3));
    expect(manifests).toMatchSnapshot();
    expect(findSeeds(JSON.stringify(manifests))).toEqual([]);
    // Manifest rendering: the chart must create none of the routes.
    expect(Object.values(gateway.routesHelmValues()).every((e: any) => e.enabled === false)).toBe(true);
  });

  test('the TLS default matches the pre-deployment page\'s Gateway and listener-to-route table', () => {
    const { c, gateway } = dsxGateway({ transport: GatewayTransport.TLS, mtls: true, version: RouteApiVersion.V1ALPHA2 });
    const manifests = Testing.synth(c);
    const gw = manifests.find((m) => m.kind === 'Gateway')!;
    expect(gw.metadata.name).toBe('event-bus-gateway');
    expect(gw.spec.gatewayClassName).toBe('eg');
    expect(gw.spec.infrastructure).toEqual({
      parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: 'event-bus-proxy-config' },
    });
    const row = (l: any) => [l.name, l.port, l.protocol, l.tls.mode, l.allowedRoutes.namespaces.from, l.allowedRoutes.kinds[0].kind];
    expect(gw.spec.listeners.map(row)).toEqual([
      ['mqtt', 1883, 'TLS', 'Terminate', 'All', 'TCPRoute'],
      ['nats-client', 4222, 'TLS', 'Terminate', 'All', 'TCPRoute'],
      ['nats-leafnode', 7422, 'TLS', 'Terminate', 'All', 'TCPRoute'],
      ['mqtt-mtls', 8883, 'TLS', 'Passthrough', 'All', 'TLSRoute'],
    ]);
    for (const l of gw.spec.listeners.slice(0, 3)) {
      expect(l.tls.certificateRefs).toEqual([{ kind: 'Secret', name: 'event-bus-server-tls-certificate' }]);
    }
    expect(gw.spec.listeners[3].tls.certificateRefs).toBeUndefined();
    const routes = manifests.filter((m) => m.kind.endsWith('Route'));
    expect(routes.map((r) => [r.kind, r.metadata.name, r.spec.parentRefs[0].sectionName, `${r.spec.rules[0].backendRefs[0].name}:${r.spec.rules[0].backendRefs[0].port}`])).toEqual([
      ['TCPRoute', 'nats-mqtt', 'mqtt', 'nats:1883'],
      ['TCPRoute', 'nats-client', 'nats-client', 'nats:4222'],
      ['TCPRoute', 'nats-leafnode', 'nats-leafnode', 'nats:7422'],
      ['TLSRoute', 'nats-mqtt-mtls', 'mqtt-mtls', 'nats-mtls:1883'],
    ]);
    const dsx = gateway.eventBusListeners!;
    expect([dsx.mqtt.name, dsx.natsClient.name, dsx.natsLeafnode.name, dsx.mqttMtls!.name]).toEqual(['mqtt', 'nats-client', 'nats-leafnode', 'mqtt-mtls']);
    expect(dsx.mqttMtlsRoute!.kind).toBe('TLSRoute');
  });

  test('with route API v1 the terminate listeners pair with TLSRoute (hostnames from the certificate)', () => {
    const { c } = dsxGateway({ transport: GatewayTransport.TLS, mtls: true, version: RouteApiVersion.V1 });
    const manifests = Testing.synth(c);
    const gw = manifests.find((m) => m.kind === 'Gateway')!;
    expect(gw.spec.listeners.map((l: any) => l.allowedRoutes.kinds[0].kind)).toEqual(['TLSRoute', 'TLSRoute', 'TLSRoute', 'TLSRoute']);
    const routes = manifests.filter((m) => m.kind.endsWith('Route'));
    expect(routes.map((r) => `${r.apiVersion} ${r.kind} ${r.metadata.name} ${JSON.stringify(r.spec.hostnames)}`)).toEqual([
      'gateway.networking.k8s.io/v1 TLSRoute nats-mqtt ["event-bus.example.com"]',
      'gateway.networking.k8s.io/v1 TLSRoute nats-client ["event-bus.example.com"]',
      'gateway.networking.k8s.io/v1 TLSRoute nats-leafnode ["event-bus.example.com"]',
      'gateway.networking.k8s.io/v1 TLSRoute nats-mqtt-mtls ["mqtt-mtls.example.com"]',
    ]);
  });

  test('the plain-TCP variant (local evaluation) has TCP listeners without TLS or hostnames', () => {
    const { c } = dsxGateway({ transport: GatewayTransport.TCP, mtls: true, version: RouteApiVersion.V1ALPHA2 });
    const gw = Testing.synth(c).find((m) => m.kind === 'Gateway')!;
    expect(gw.spec.listeners.slice(0, 3).map((l: any) => [l.protocol, l.tls, l.hostname, l.allowedRoutes.kinds])).toEqual([
      ['TCP', undefined, undefined, [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }]],
      ['TCP', undefined, undefined, [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }]],
      ['TCP', undefined, undefined, [{ group: 'gateway.networking.k8s.io', kind: 'TCPRoute' }]],
    ]);
  });

  test('without mTLS there is no mqtt-mtls listener and no nats-mqtt-mtls route', () => {
    const variant = { transport: GatewayTransport.TLS, mtls: false, version: RouteApiVersion.V1ALPHA2 };
    const { c, gateway } = dsxGateway(variant, RouteRendering.HELM_VALUES);
    const gw = Testing.synth(c).find((m) => m.kind === 'Gateway')!;
    expect(gw.spec.listeners.map((l: any) => l.name)).toEqual(['mqtt', 'nats-client', 'nats-leafnode']);
    expect(gateway.eventBusListeners!.mqttMtls).toBeUndefined();
    expect(gateway.routesHelmValues().mqttMtls).toEqual({ enabled: false });
  });
});

describe('route rendering', () => {
  test('Helm-values rendering (the default): no route manifests, the chart\'s routes tree instead', () => {
    const { c, gateway } = dsxGateway({ transport: GatewayTransport.TLS, mtls: true, version: RouteApiVersion.V1ALPHA2 }, RouteRendering.HELM_VALUES);
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    expect(manifests.map((m) => m.kind)).toEqual(['Certificate', 'EnvoyProxy', 'Gateway']);
    expect(gateway.routesHelmValues()).toMatchSnapshot();
    expect(gateway.routesHelmValues()).toEqual({
      mqtt: { enabled: true, kind: 'TCPRoute', gatewayName: 'event-bus-gateway', gatewayNamespace: 'dsx', sectionName: 'mqtt', hostnames: [] },
      natsClient: { enabled: true, kind: 'TCPRoute', gatewayName: 'event-bus-gateway', gatewayNamespace: 'dsx', sectionName: 'nats-client', hostnames: [] },
      natsLeafnode: { enabled: true, kind: 'TCPRoute', gatewayName: 'event-bus-gateway', gatewayNamespace: 'dsx', sectionName: 'nats-leafnode', hostnames: [] },
      mqttMtls: { enabled: true, kind: 'TLSRoute', gatewayName: 'event-bus-gateway', gatewayNamespace: 'dsx', sectionName: 'mqtt-mtls', hostnames: [] },
    });
  });

  test('Helm values carry the listener names, gateway name and namespace, and TLSRoute hostnames', () => {
    const c = chart('dsx');
    const gw = new EventBusGateway(c, 'Gw', { metadata: { name: 'shared-gateway', namespace: 'csc-gateway' }, envoyProxy: EventBusEnvoyProxy.fromEnvoyProxyName(c, 'Proxy', 'shared-gateway') });
    gw.addTcpListener('mqtt-plain', { port: 1883 }).addRoute('Mqtt', { backend: RouteBackend.natsMqtt() });
    gw.addTlsPassthroughListener('mtls', { port: 8883 }).addTlsRoute('Mtls', { backend: RouteBackend.natsMqttMtls(), hostnames: ['mqtt-mtls.example.com'] });
    expect(gw.routesHelmValues()).toEqual({
      mqtt: { enabled: true, kind: 'TCPRoute', gatewayName: 'shared-gateway', gatewayNamespace: 'csc-gateway', sectionName: 'mqtt-plain', hostnames: [] },
      natsClient: { enabled: false },
      natsLeafnode: { enabled: false },
      mqttMtls: { enabled: true, kind: 'TLSRoute', gatewayName: 'shared-gateway', gatewayNamespace: 'csc-gateway', sectionName: 'mtls', hostnames: ['mqtt-mtls.example.com'] },
    });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    expect(manifests.map((m) => m.kind)).toEqual(['Gateway']);
    // Routes in the chart's namespace reach the Gateway in its own namespace.
    expect(manifests[0].metadata.namespace).toBe('csc-gateway');
  });

  test('manifest rendering: custom backends, names and namespaces, cross-namespace parentRefs', () => {
    const c = chart('dsx');
    const gw = new EventBusGateway(c, 'Gw', { metadata: { namespace: 'envoy-gateway-system' }, routeRendering: RouteRendering.MANIFESTS });
    const l = gw.addTlsPassthroughListener('tls', { port: 9443, hostname: '*.example.com' });
    l.addTlsRoute('A', { backend: RouteBackend.service('svc-a', 8443, { namespace: 'apps' }), metadata: { name: 'route-a' }, hostnames: ['a.example.com'] });
    l.addTlsRoute('B', { backend: RouteBackend.service('svc-b', 8443), metadata: { name: 'route-b', namespace: 'apps' } });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    const [a, b] = manifests.filter((m) => m.kind === 'TLSRoute');
    expect(a).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TLSRoute',
      metadata: { name: 'route-a', namespace: 'dsx', labels: GATEWAY_LABELS },
      spec: {
        hostnames: ['a.example.com'],
        parentRefs: [{ name: 'event-bus-gateway', namespace: 'envoy-gateway-system', sectionName: 'tls' }],
        rules: [{ backendRefs: [{ name: 'svc-a', namespace: 'apps', port: 8443 }] }],
      },
    });
    // Default hostnames: the listener's.
    expect(b.metadata).toEqual({ name: 'route-b', namespace: 'apps', labels: GATEWAY_LABELS });
    expect(b.spec.hostnames).toEqual(['*.example.com']);
    expect(gw.listeners[0].routes.map((r) => r.sectionName)).toEqual(['tls', 'tls']);
    expect(gw.listeners[0].routes[0].hostnames).toEqual(['a.example.com']);
  });

  test('a listener can carry several routes; allowedRoutes selector and same-namespace render', () => {
    const c = chart('dsx');
    const gw = new EventBusGateway(c, 'Gw', { routeRendering: RouteRendering.MANIFESTS });
    const l = gw.addTlsPassthroughListener('tls', { port: 9443, allowedRoutes: AllowedRoutes.fromNamespacesWithLabels({ team: 'dsx' }) });
    l.addRoute('A', { backend: RouteBackend.service('a', 1), hostnames: ['a.example.com'] });
    l.addRoute('B', { backend: RouteBackend.service('b', 2), metadata: { name: 'b' }, hostnames: ['b.example.com'] });
    gw.addTcpListener('tcp', { port: 9000, allowedRoutes: AllowedRoutes.sameNamespace() }).addTcpRoute('T', { backend: RouteBackend.service('c', 3) });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    const g = manifests.find((m) => m.kind === 'Gateway')!;
    expect(g.spec.listeners[0].allowedRoutes.namespaces).toEqual({ from: 'Selector', selector: { matchLabels: { team: 'dsx' } } });
    expect(g.spec.listeners[1].allowedRoutes.namespaces).toEqual({ from: 'Same' });
    expect(manifests.filter((m) => m.kind.endsWith('Route')).map((m) => m.metadata.name)).toEqual(['tls', 'b', 'tcp']);
  });

  test('a terminate listener referencing an existing Secret in another namespace names that namespace', () => {
    const c = chart('dsx');
    const gw = new EventBusGateway(c, 'Gw', { routeRendering: RouteRendering.MANIFESTS });
    gw.addTlsTerminateListener('mqtt', { port: 1883, certificate: ServerCertificate.fromSecretName(c, 'Tls', 'wildcard-tls', 'certs'), hostname: 'mqtt.example.com' })
      .addTcpRoute('R', { backend: RouteBackend.natsMqtt() });
    const g = Testing.synth(c).find((m) => m.kind === 'Gateway')!;
    validateManifests([g]);
    expect(g.spec.listeners[0].tls.certificateRefs).toEqual([{ kind: 'Secret', name: 'wildcard-tls', namespace: 'certs' }]);
    expect(g.spec.listeners[0].hostname).toBe('mqtt.example.com');
  });

  test('listeners and routes added after construction still land', () => {
    const c = chart('dsx');
    const gw = EventBusGateway.withEventBusListeners(c, 'Gw', { transport: GatewayTransport.TCP, mtls: false, routeRendering: RouteRendering.MANIFESTS });
    gw.addTcpListener('extra', { port: 9999 }).addRoute('Extra', { backend: RouteBackend.service('extra', 9999) });
    const manifests = Testing.synth(c);
    expect(manifests.find((m) => m.kind === 'Gateway')!.spec.listeners.map((l: any) => l.name)).toEqual(['mqtt', 'nats-client', 'nats-leafnode', 'extra']);
    expect(manifests.filter((m) => m.kind === 'TCPRoute').map((m) => m.metadata.name)).toEqual(['nats-mqtt', 'nats-client', 'nats-leafnode', 'extra']);
  });
});

describe('EventBusEnvoyProxy', () => {
  test('renders replicas, resources, Service type and the MetalLB pool (the local evaluation\'s EnvoyProxy)', () => {
    const c = chart('csc-gateway');
    const proxy = new EventBusEnvoyProxy(c, 'Proxy', {
      metadata: { name: 'shared-gateway' },
      replicas: 1,
      resources: { cpuRequest: '100m', memoryRequest: '64Mi', cpuLimit: '1000m', memoryLimit: '256Mi' },
      serviceType: EnvoyServiceType.LOAD_BALANCER,
      serviceAnnotations: { 'example.com/team': 'dsx' },
      metalLbAddressPool: 'csc-envoy-pool',
    });
    new EventBusGateway(c, 'Gw', { metadata: { name: 'shared-gateway' }, envoyProxy: proxy }).addTcpListener('mqtt', { port: 1883 }).addRoute('R', { backend: RouteBackend.natsMqtt() });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    expect(manifests[0]).toEqual({
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'EnvoyProxy',
      metadata: { name: 'shared-gateway', namespace: 'csc-gateway', labels: GATEWAY_LABELS },
      spec: {
        provider: {
          type: 'Kubernetes',
          kubernetes: {
            envoyDeployment: {
              replicas: 1,
              container: { resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1000m', memory: '256Mi' } } },
            },
            envoyService: {
              type: 'LoadBalancer',
              annotations: { 'example.com/team': 'dsx', 'metallb.universe.tf/address-pool': 'csc-envoy-pool' },
            },
          },
        },
      },
    });
    expect(manifests[1].spec.infrastructure.parametersRef.name).toBe('shared-gateway');
  });

  test('a referenced EnvoyProxy is not created', () => {
    const c = chart('dsx');
    new EventBusGateway(c, 'Gw', { envoyProxy: EventBusEnvoyProxy.fromEnvoyProxyName(c, 'Proxy', 'existing') })
      .addTcpListener('mqtt', { port: 1883 }).addRoute('R', { backend: RouteBackend.natsMqtt() });
    const manifests = Testing.synth(c);
    expect(manifests.map((m) => m.kind)).toEqual(['Gateway']);
    expect(manifests[0].spec.infrastructure.parametersRef.name).toBe('existing');
  });

  test('fails when replicas is not a count', () => {
    expect(() => new EventBusEnvoyProxy(chart(), 'P', { replicas: 1.5 })).toThrow(/test\/P: replicas: 1.5 is not a replica count\. Allowed: a non-negative integer/);
  });

  // Found by test/proof/fuzz.test.ts: an unknown type was written into a CRD-invalid EnvoyProxy.
  test('fails when the Service type is not one of the enum (plain JavaScript)', () => {
    expect(() => new EventBusEnvoyProxy(chart(), 'P', { serviceType: 'External' as EnvoyServiceType }))
      .toThrow(/test\/P: serviceType: "External" is not a Service type\. Allowed: LoadBalancer, NodePort, ClusterIP\./);
  });

  test('fails when a resource is not a Kubernetes quantity', () => {
    expect(() => new EventBusEnvoyProxy(chart(), 'P', { resources: { memoryLimit: '256MB' } })).toThrow(/resources\.memoryLimit: "256MB" is not a Kubernetes quantity/);
  });

  test('fails when an annotation key is invalid', () => {
    expect(() => new EventBusEnvoyProxy(chart(), 'P', { serviceAnnotations: { 'bad key': 'x' } })).toThrow(/Service annotation key "bad key" is invalid/);
  });

  test('fails when the MetalLB pool is given twice with different values', () => {
    expect(() => new EventBusEnvoyProxy(chart(), 'P', { metalLbAddressPool: 'a', serviceAnnotations: { 'metallb.universe.tf/address-pool': 'b' } }))
      .toThrow(/metalLbAddressPool: "a" and serviceAnnotations\["metallb.universe.tf\/address-pool"\] "b" disagree/);
  });

  test('fails when the EnvoyProxy is in another namespace than the Gateway', () => {
    const c = chart('dsx');
    expect(() => new EventBusGateway(c, 'Gw', { envoyProxy: EventBusEnvoyProxy.fromEnvoyProxyName(c, 'Proxy', 'p', 'other') }))
      .toThrow(/EnvoyProxy "p" is in namespace "other" but the Gateway is in "dsx"\. Allowed: an EnvoyProxy in the Gateway's namespace/);
  });
});

describe('MtlsServerCertificate with the DSX gateway', () => {
  test('certificate, TLSRoute and client URL agree: synthesis succeeds', () => {
    const c = chart('dsx');
    const mtls = new MtlsServerCertificate(c, 'Mtls', { issuer, externalHostnames: ['mqtt-mtls.example.com'] });
    EventBusGateway.withEventBusListeners(c, 'Gw', {
      transport: GatewayTransport.TCP,
      mtlsHostnames: ['mqtt-mtls.example.com'],
      mtlsServerCertificate: mtls,
      mtlsClientUrls: ['mqtts://mqtt-mtls.example.com:8883'],
    });
    expect(validateManifests(Testing.synth(c))).toBe(3);
  });
});

describe('EventBusGateway.fromGatewayName', () => {
  test('Helm values: the chart\'s routes target the existing Gateway and its listeners; nothing of the Gateway is synthesized', () => {
    const c = chart('dsx');
    const gw = EventBusGateway.fromGatewayName(c, 'Gw', 'platform-gateway', 'gateways');
    // TLS-terminate listeners of an existing Gateway have their certificates already.
    gw.addEventBusListeners({ transport: GatewayTransport.TLS, mtlsHostnames: ['mqtt-mtls.example.com'] });
    expect(Testing.synth(c)).toEqual([]);
    // A private class implementing IGateway, as cdk8s-plus imports a Secret: no Gateway object, no EnvoyProxy.
    expect(gw).not.toBeInstanceOf(EventBusGateway);
    expect(gw.node.children.filter((ch) => ch instanceof ApiObject)).toEqual([]);
    const target = { enabled: true, gatewayName: 'platform-gateway', gatewayNamespace: 'gateways' };
    expect(gw.routesHelmValues()).toEqual({
      mqtt: { ...target, kind: 'TCPRoute', sectionName: 'mqtt', hostnames: [] },
      natsClient: { ...target, kind: 'TCPRoute', sectionName: 'nats-client', hostnames: [] },
      natsLeafnode: { ...target, kind: 'TCPRoute', sectionName: 'nats-leafnode', hostnames: [] },
      mqttMtls: { ...target, kind: 'TLSRoute', sectionName: 'mqtt-mtls', hostnames: ['mqtt-mtls.example.com'] },
    });
  });

  test('manifests: routes on the existing Gateway\'s own listener names, with the route labels', () => {
    const c = chart('dsx');
    const gw = EventBusGateway.fromGatewayName(c, 'Gw', 'platform-gateway', 'gateways', {
      routeRendering: RouteRendering.MANIFESTS, routeLabels: { team: 'platform' },
    });
    gw.addTcpListener('tcp-1883', { port: 1883 }).addRoute('Mqtt', { backend: RouteBackend.natsMqtt() });
    const manifests = Testing.synth(c);
    expect(validateManifests(manifests)).toBe(1);
    expect(manifests).toEqual([{
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TCPRoute',
      metadata: { name: 'nats-mqtt', namespace: 'dsx', labels: { ...GATEWAY_LABELS, team: 'platform' } },
      spec: {
        parentRefs: [{ name: 'platform-gateway', namespace: 'gateways', sectionName: 'tcp-1883' }],
        rules: [{ backendRefs: [{ name: 'nats', port: 1883 }] }],
      },
    }]);
    // The library renders the route, so the chart's is disabled.
    expect(gw.routesHelmValues().mqtt).toMatchObject({ enabled: false, gatewayName: 'platform-gateway', gatewayNamespace: 'gateways', sectionName: 'tcp-1883' });
  });

  test('the name, namespace and label rules still apply', () => {
    expect(() => EventBusGateway.fromGatewayName(chart(), 'Gw', 'Platform_Gateway', 'gateways')).toThrow(/Gateway name "Platform_Gateway"/);
    expect(() => EventBusGateway.fromGatewayName(chart(null), 'Gw', 'platform-gateway'))
      .toThrow(/the Gateway's namespace is unknown/);
    const c = chart();
    const gw = EventBusGateway.fromGatewayName(c, 'Gw', 'platform-gateway', 'gateways');
    expect(() => gw.addEventBusListeners({ transport: GatewayTransport.TCP, certificate: ServerCertificate.fromSecretName(c, 'Tls', 'tls') }))
      .toThrow(/certificate is set but transport is TCP/);
  });

  test('a Gateway created afterwards in the same scope is a normal one', () => {
    const c = chart('dsx');
    EventBusGateway.fromGatewayName(c, 'Existing', 'platform-gateway', 'gateways').addEventBusListeners({ transport: GatewayTransport.TCP, mtls: false });
    EventBusGateway.withEventBusListeners(c, 'Own', { transport: GatewayTransport.TCP, mtls: false });
    expect(Testing.synth(c).map((m) => m.kind).sort()).toEqual(['EnvoyProxy', 'Gateway']);
  });
});

describe('labels', () => {
  test('user labels and annotations reach the Gateway, its EnvoyProxy and its routes, over the standard labels', () => {
    const c = chart('dsx');
    const gw = EventBusGateway.withEventBusListeners(c, 'Gw', {
      metadata: { labels: { 'team': 'platform', 'app.kubernetes.io/part-of': 'platform' }, annotations: { note: 'x' } },
      transport: GatewayTransport.TCP,
      mtls: false,
      routeRendering: RouteRendering.MANIFESTS,
    });
    gw.addTcpListener('extra', { port: 9000 }).addRoute('Extra', { backend: RouteBackend.service('extra', 9000), metadata: { labels: { route: 'extra' } } });
    const manifests = Testing.synth(c);
    const expected = { ...GATEWAY_LABELS, 'team': 'platform', 'app.kubernetes.io/part-of': 'platform' };
    for (const m of manifests) expect(m.metadata.labels).toEqual(m.metadata.name === 'extra' ? { ...expected, route: 'extra' } : expected);
    expect(manifests.find((m) => m.kind === 'Gateway')!.metadata.annotations).toEqual({ note: 'x' });
    expect(() => new EventBusGateway(chart(), 'Bad', { metadata: { labels: { 'bad key': 'x' } } })).toThrow(/bad key/);
  });
});
