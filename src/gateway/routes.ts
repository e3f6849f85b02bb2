import { ApiObject, ApiObjectMetadata, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { hostnameAgreementErrors } from './agreement';
import { tcpRoutesModule, tlsRoutesModule } from './bindings';
import type { IGatewayListener, IGatewayRoute } from './contracts';
import { RouteApiVersion, RouteBackend, RouteKind } from './route-types';
import type { ServerCertificate } from '../certificates/server-certificate';

/** Options of every route. */
export interface GatewayRouteOptions {
  /** The Service the route forwards to, e.g. `RouteBackend.natsMqtt()`. */
  readonly backend: RouteBackend;
  /**
   * Metadata of the route object. `name` defaults to the upstream chart's
   * name for the chart's backends (`nats-mqtt`, `nats-client`,
   * `nats-leafnode`, `nats-mqtt-mtls`), else the listener's name; `namespace`
   * (manifest rendering only: the chart puts its routes in its release
   * namespace) to the chart's. Labels are added to the standard labels and
   * the gateway's labels.
   * @default - the defaults above
   */
  readonly metadata?: ApiObjectMetadata;
}

/** Options of a route on a TLS-terminate listener. */
export interface TerminateRouteOptions extends GatewayRouteOptions {
  /**
   * SNI hostnames, used when the route is a TLSRoute (route API v1, where
   * they are required). A TCPRoute (route API v1alpha2) has no hostnames.
   * @default - the listener's hostname
   */
  readonly hostnames?: string[];
}

/** Options of a TLSRoute on a TLS-passthrough listener. */
export interface TlsRouteOptions extends GatewayRouteOptions {
  /**
   * SNI hostnames the route matches. DNS names only: TLS clients never send
   * an IP address as SNI. Required with route API v1.
   * @default - the listener's hostname; without one, none (v1alpha2: every
   * connection, including clients that connect by IP and send no SNI)
   */
  readonly hostnames?: string[];
  /**
   * The certificate the backend presents (the mTLS NATS server's). Given
   * with `clientUrls`, synthesis fails unless its SANs, the route's hostnames
   * and every client URL's host agree.
   * @default - no hostname agreement check
   */
  readonly serverCertificate?: ServerCertificate;
  /**
   * Broker URLs the clients use, e.g. `mqtts://mqtt-mtls.example.com:8883`.
   * @default - no hostname agreement check
   */
  readonly clientUrls?: string[];
}

/** What a listener decided about a new route (module-internal). */
export interface RouteDecision {
  readonly id: string;
  readonly kind: RouteKind;
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly backend: RouteBackend;
  readonly hostnames: string[];
  readonly helmValuesKey?: string;
  readonly agreement?: { certificate: ServerCertificate; clientUrls: string[] };
}

/**
 * A TCPRoute or TLSRoute attached to one listener. Created only from a
 * listener (`addRoute`, `addTcpRoute`, `addTlsRoute`), so its `parentRefs`
 * and `sectionName` always name that listener. Rendered as a manifest or as
 * an entry of the chart's Helm values, as the gateway's `routeRendering` says.
 */
export class GatewayRoute extends Construct implements IGatewayRoute {
  /** @internal */
  public static _create(listener: IGatewayListener, decision: RouteDecision): GatewayRoute {
    return new GatewayRoute(listener, decision);
  }

  /** Name of the route object. */
  public readonly name: string;
  /** `TCPRoute` or `TLSRoute`. */
  public readonly kind: string;
  /** The listener the route attaches to. */
  public readonly listener: IGatewayListener;
  /** The Service it forwards to. */
  public readonly backend: RouteBackend;
  /** Namespace of the route object, when set explicitly. */
  public readonly namespace?: string;
  /** `gateway.networking.k8s.io/<version>`. */
  public readonly apiVersion: string;
  /** The synthesized object (manifest rendering only). */
  public readonly resource?: ApiObject;
  /** @internal */
  public readonly _helmValuesKey?: string;

  private readonly _hostnames: string[];

  private constructor(listener: IGatewayListener, d: RouteDecision) {
    super(listener, d.id);
    this.listener = listener;
    this.name = d.name;
    this.kind = d.kind;
    this.backend = d.backend;
    this.namespace = d.namespace;
    this._hostnames = [...d.hostnames];
    this._helmValuesKey = d.helmValuesKey;
    const gateway = listener.gateway;
    const version = gateway.routeApiVersion;
    this.apiVersion = `gateway.networking.k8s.io/${version}`;

    if (d.agreement) {
      const { certificate, clientUrls } = d.agreement;
      // Checked at synthesis: SANs can still be added to the certificate after this call.
      this.node.addValidation({
        // cdk8s prefixes each message with this construct's path.
        validate: () => hostnameAgreementErrors({
          where: undefined,
          certificatePath: certificate.node.path,
          dnsNames: certificate.dnsNames,
          ipAddresses: certificate.ipAddresses,
          routeHostnames: this._hostnames,
          clientUrls,
          listenerPort: listener.port,
        }),
      });
    }

    if (d.helmValuesKey !== undefined) return; // the chart creates this route

    const spec = () => ({
      parentRefs: [{ name: gateway.name, namespace: gateway.namespace, sectionName: listener.name }],
      hostnames: this.kind === RouteKind.TLS_ROUTE && this._hostnames.length ? [...this._hostnames] : undefined,
      rules: [{ backendRefs: [{ name: this.backend.serviceName, namespace: this.backend.namespace, port: this.backend.port }] }],
    });
    const metadata = { name: this.name, namespace: this.namespace, labels: d.labels, annotations: d.annotations };
    if (this.kind === RouteKind.TCP_ROUTE) {
      const m = tcpRoutesModule();
      const Kind = version === RouteApiVersion.V1 ? m.TcpRoute : m.TcpRouteV1Alpha2;
      this.resource = new Kind(this, 'Resource', { metadata, spec: Lazy.any({ produce: spec }) });
    } else {
      const m = tlsRoutesModule();
      const Kind = version === RouteApiVersion.V1 ? m.TlsRoute : m.TlsRouteV1Alpha2;
      this.resource = new Kind(this, 'Resource', { metadata, spec: Lazy.any({ produce: spec }) });
    }
  }

  /** SNI hostnames (TLSRoute only). */
  public get hostnames(): string[] {
    return [...this._hostnames];
  }

  /** The listener's name: the route's `parentRefs[0].sectionName`. */
  public get sectionName(): string {
    return this.listener.name;
  }
}
