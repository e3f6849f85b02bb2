/**
 * Compile-time proof of the public API's shape (issue 12): each line marked
 * @ts-expect-error must fail to compile. `tsc` (run by `npx projen
 * test:types`) reports an unused @ts-expect-error as an error, so exporting
 * one of these again fails the build. Type-checked, never executed.
 */
import { Testing } from 'cdk8s';
import * as api from '../../src';

// Kinds only the library reads are internal; the public `kind` properties are strings.
// @ts-expect-error RouteKind is internal
void api.RouteKind;
// @ts-expect-error SecretsDeliveryKind is internal
void api.SecretsDeliveryKind;
// @ts-expect-error MtlsServerTlsKind is internal
void api.MtlsServerTlsKind;
// @ts-expect-error LeafTrustKind is internal
void api.LeafTrustKind;
// @ts-expect-error CertificateAuthorityKind is internal
void api.CertificateAuthorityKind;
const deliveryKind: string = api.SecretsDelivery.inline().kind;
void deliveryKind;

// No name clash with cdk8s-plus: an existing TLS Secret is imported on the construct class.
// @ts-expect-error TlsSecret is gone (cdk8s-plus has a TlsSecret that creates one)
void api.TlsSecret;
const existing: api.ITlsSecretSource = api.ServerCertificate.fromSecretName(Testing.app(), 'Tls', 'event-bus-server-tls-certificate');
// Every importer of a construct takes (scope, id, name, ...), as cdk8s-plus's Secret.fromSecretName does.
// @ts-expect-error the scope and id come first
api.ServerCertificate.fromSecretName('event-bus-server-tls-certificate');
// @ts-expect-error the scope and id come first
api.EventBusEnvoyProxy.fromEnvoyProxyName('event-bus-proxy-config');
// An imported Gateway is the interface, not the class: it has no Gateway object or EnvoyProxy of its own.
const imported: api.IGateway = api.EventBusGateway.fromGatewayName(Testing.chart(), 'Existing', 'platform-gateway', 'gateways');
// @ts-expect-error nothing of an existing Gateway is synthesized
void imported.resource;
// @ts-expect-error an imported Gateway is not an EventBusGateway
const asClass: api.EventBusGateway = imported;
void asClass;
void existing;

// One naming style: no Dsx* names.
// @ts-expect-error DsxTransport is now GatewayTransport
void api.DsxTransport;
void api.GatewayTransport.TLS;

// GatewayListener is an interface: there is no abstract listener to construct.
// @ts-expect-error GatewayListener is not a value
void api.GatewayListener;

// GitOps is union-like: built by its factories only; its kind enum and the wiring construct are internal.
// @ts-expect-error the constructor is private
void new api.GitOps({});
// @ts-expect-error GitOpsKind is internal
void api.GitOpsKind;
// @ts-expect-error GitOpsWiring is internal (the fleet creates it)
void api.GitOpsWiring;
const engine: string = api.GitOps.flux({ repoUrl: 'https://git.example.com/x.git', path: '.', chart: { repoUrl: 'oci://r/c', version: '0.2.0' } }).engine;
void engine;
