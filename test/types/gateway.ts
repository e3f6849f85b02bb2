/**
 * Compile-time proof of the listener-to-route table of upstream's pre-deployment page
 * (https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#listener-to-route-mapping)
 * (https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#listener-to-route-mapping):
 * every line marked @ts-expect-error must fail to compile. `tsc` (run by
 * `npx projen test:types`, first step of the test task) reports an unused
 * @ts-expect-error as an error, so deleting the illegal line (or making it
 * legal) fails the build. This file is type-checked, never executed.
 */
import { Testing } from 'cdk8s';
import {
  CertificateIssuer, EventBusGateway, IEventBusGateway, IGatewayListener, IGatewayRoute, RouteBackend, ServerCertificate,
  TcpListener, TlsPassthroughListener, TlsTerminateListener,
} from '../../src';

const chart = Testing.chart();
const gateway = new EventBusGateway(chart, 'Gateway', { metadata: { namespace: 'dsx' } });
const certificate = new ServerCertificate(chart, 'Cert', {
  issuer: CertificateIssuer.fromIssuerName('event-bus-certificate-issuer'),
  dnsNames: ['event-bus.example.com'],
});
const backend = RouteBackend.natsMqtt();

const tcp = gateway.addTcpListener('mqtt', { port: 1883 });
const terminate = gateway.addTlsTerminateListener('nats-client', { port: 4222, certificate });
const passthrough = gateway.addTlsPassthroughListener('mqtt-mtls', { port: 8883 });

// Legal pairings compile.
tcp.addTcpRoute('TcpOnTcp', { backend });
tcp.addRoute('RouteOnTcp', { backend });
terminate.addRoute('RouteOnTerminate', { backend: RouteBackend.natsClient() });
terminate.addTcpRoute('TcpOnTerminate', { backend: RouteBackend.natsClient() });
passthrough.addTlsRoute('TlsOnPassthrough', { backend: RouteBackend.natsMqttMtls(), hostnames: ['mqtt-mtls.example.com'] });
gateway.addTlsTerminateListener('existing-secret', { port: 9443, certificate: ServerCertificate.fromSecretName(chart, 'MyTls', 'my-tls') });
const anyListener: IGatewayListener = passthrough;
void anyListener;
// A listener names its gateway, and its routes, by the interfaces of
// src/gateway/contracts.ts (which keep the import graph free of cycles).
const itsGateway: IEventBusGateway = tcp.gateway;
const sameGateway: IEventBusGateway = gateway;
const itsRoutes: IGatewayRoute[] = tcp.routes;
void [itsGateway, sameGateway, itsRoutes];

// TLSRoute on a TLS-terminate listener (the page's table: Terminate -> TCPRoute).
// @ts-expect-error addTlsRoute does not exist on TlsTerminateListener
terminate.addTlsRoute('TlsOnTerminate', { backend, hostnames: ['a.example.com'] });

// TLSRoute on a TCP listener.
// @ts-expect-error addTlsRoute does not exist on TcpListener
tcp.addTlsRoute('TlsOnTcp', { backend, hostnames: ['a.example.com'] });

// TCPRoute on a TLS-passthrough listener (Passthrough -> TLSRoute).
// @ts-expect-error addTcpRoute does not exist on TlsPassthroughListener
passthrough.addTcpRoute('TcpOnPassthrough', { backend });

// A certificate on a TLS-passthrough listener: TLS ends at the backend, not the gateway.
// @ts-expect-error certificate is not a property of TlsPassthroughListenerOptions
gateway.addTlsPassthroughListener('mqtt-mtls-2', { port: 8884, certificate });

// A TLS-terminate listener without a certificate.
// @ts-expect-error certificate is required in TlsTerminateListenerOptions
gateway.addTlsTerminateListener('no-cert', { port: 9444 });

// A hostname on a TCP listener: TCP carries no SNI.
// @ts-expect-error hostname is not a property of TcpListenerOptions
gateway.addTcpListener('tcp-with-host', { port: 9445, hostname: 'a.example.com' });

// Hostnames on a TCPRoute.
// @ts-expect-error hostnames is not a property of GatewayRouteOptions
tcp.addTcpRoute('TcpWithHostnames', { backend, hostnames: ['a.example.com'] });

// The listener classes are not interchangeable (TypeScript is structural;
// each class carries a member of its own).
// @ts-expect-error a TlsTerminateListener is not a TcpListener
const notTcp: TcpListener = terminate;
// @ts-expect-error a TcpListener is not a TlsTerminateListener
const notTerminate: TlsTerminateListener = tcp;
// @ts-expect-error a TlsTerminateListener is not a TlsPassthroughListener
const notPassthrough: TlsPassthroughListener = terminate;
// @ts-expect-error a TlsPassthroughListener is not a TlsTerminateListener
const notTerminate2: TlsTerminateListener = passthrough;
void [notTcp, notTerminate, notPassthrough, notTerminate2];

// sectionName is derived, never typed.
// @ts-expect-error sectionName is not a route option
tcp.addTcpRoute('WithSection', { backend, sectionName: 'mqtt' });
