import { ApiObject, ApiObjectMetadata, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { gatewaysModule } from './bindings';
import type { IEventBusGateway, IGatewayListener, IGatewayRoute } from './contracts';
import { EventBusEnvoyProxy, IEnvoyProxy } from './envoy-proxy';
import { TcpListener, TcpListenerOptions, TlsPassthroughListener, TlsPassthroughListenerOptions, TlsTerminateListener, TlsTerminateListenerOptions } from './listeners';
import { AllowedRoutes, CHART_ROUTES, RouteApiVersion, RouteBackend, RouteRendering } from './route-types';
import { GatewayRoute } from './routes';
import { ServerCertificate } from '../certificates/server-certificate';
import { formatUrl } from '../endpoint';
import { problem, quote } from '../errors';
import type { GatewaySpec } from '../imports/gwapi-gateways-gateway.networking.k8s.io';
import { SECTION_NAME, validateObjectName, validatePort } from '../k8s/names';
import { resolveMetadata } from '../labels';
import type { ITlsSecretSource } from '../secrets/tls-secret';

/** Props of {@link EventBusGateway}. */
export interface EventBusGatewayProps {
  /**
   * Metadata of the Gateway: name, namespace (also of the EnvoyProxy it
   * creates), labels and annotations. Its labels are also given to the
   * EnvoyProxy and the routes it creates; the standard labels
   * (`app.kubernetes.io/part-of`, `managed-by`, `component: gateway`) are
   * always added.
   * @default - name "event-bus-gateway" (the name in upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource)), the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
  /**
   * GatewayClass.
   * @default "eg" (Envoy Gateway)
   */
  readonly gatewayClassName?: string;
  /**
   * The EnvoyProxy named in `infrastructure.parametersRef`: an
   * `EventBusEnvoyProxy` you created, or `EventBusEnvoyProxy.fromEnvoyProxyName(...)`.
   * @default - an `EventBusEnvoyProxy` named "event-bus-proxy-config" with
   * Envoy Gateway's defaults is created in the Gateway's namespace
   */
  readonly envoyProxy?: IEnvoyProxy;
  /**
   * API version of the routes.
   * @default RouteApiVersion.V1ALPHA2
   */
  readonly routeApiVersion?: RouteApiVersion;
  /**
   * Who creates the routes: the upstream chart from Helm values (default),
   * or this library as manifests.
   * @default RouteRendering.HELM_VALUES
   */
  readonly routeRendering?: RouteRendering;
}

/** Options of {@link EventBusGateway.fromGatewayName}. */
export interface ExistingGatewayOptions {
  /**
   * API version of the routes.
   * @default RouteApiVersion.V1ALPHA2
   */
  readonly routeApiVersion?: RouteApiVersion;
  /**
   * Who creates the routes: the upstream chart from Helm values (default),
   * or this library as manifests.
   * @default RouteRendering.HELM_VALUES
   */
  readonly routeRendering?: RouteRendering;
  /**
   * Labels of the routes this library renders (manifest rendering).
   * @default - the standard labels only
   */
  readonly routeLabels?: { [key: string]: string };
}

/** Transport of the event bus listeners `mqtt`, `nats-client` and `nats-leafnode`. */
export enum GatewayTransport {
  /** TLS terminated at the gateway (upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource)). */
  TLS = 'tls',
  /** Plain TCP (the local evaluation). */
  TCP = 'tcp',
}

/**
 * The transport of the event bus listeners when none is given: the one place
 * this default is decided (the cluster charts ask here too). Library-internal.
 */
export function resolveTransport(transport: GatewayTransport | undefined): GatewayTransport {
  return transport ?? GatewayTransport.TLS;
}

/** Where leaf remotes reach a gateway's `nats-leafnode` listener: {@link EventBusGateway.leafnodeEndpoint}. */
export interface LeafnodeEndpoint {
  /** The scheme a leaf remote uses: `tls` for a TLS-terminate listener, `nats` for plain TCP. */
  readonly scheme: string;
  /** The listener's port. */
  readonly port: number;
  /** The host names and IP addresses clients reach the gateway at (`addresses`), in the order given. */
  readonly hosts: string[];
  /**
   * The leafnode URL at the first host, e.g. `tls://csc.example.com:<port>`.
   * @default - none: the gateway has no addresses
   */
  readonly url?: string;
}

/** Options of {@link EventBusGateway.addEventBusListeners}. */
export interface EventBusListenersOptions {
  /**
   * TLS-terminate (production) or plain TCP (local evaluation) for `mqtt`,
   * `nats-client` and `nats-leafnode`.
   * @default GatewayTransport.TLS
   */
  readonly transport?: GatewayTransport;
  /**
   * Certificate of the three TLS-terminate listeners (required with TLS on a
   * Gateway this library creates, refused with TCP): a `ServerCertificate`
   * or `ServerCertificate.fromSecretName(...)`. Not needed on a gateway from
   * `fromGatewayName`, whose listeners have their certificates already.
   * @default - none
   */
  readonly certificate?: ITlsSecretSource;
  /**
   * The host names and IP addresses clients (and the CPCs' leaf remotes)
   * reach this gateway at; the first makes `leafnodeEndpoint.url`.
   * @default - the DNS names, then the IP addresses, of `certificate` when it is a `ServerCertificate`; else none
   */
  readonly addresses?: string[];
  /**
   * SNI hostnames of the three terminate routes when they render as
   * TLSRoute (route API v1, where they are required).
   * @default - the DNS names of `certificate` when it is a `ServerCertificate`
   */
  readonly hostnames?: string[];
  /**
   * Add the `mqtt-mtls` passthrough listener and its route (the chart's
   * `global.eventBus.mtls.enabled`).
   * @default true
   */
  readonly mtls?: boolean;
  /**
   * SNI hostnames of the `nats-mqtt-mtls` TLSRoute. DNS names only.
   * @default - none (v1alpha2: every connection, including clients that
   * connect by IP); required with route API v1
   */
  readonly mtlsHostnames?: string[];
  /**
   * The mTLS NATS server certificate, for the hostname agreement check.
   * @default - no check
   */
  readonly mtlsServerCertificate?: ServerCertificate;
  /**
   * Broker URLs mTLS clients use (e.g. `mqtts://mqtt-mtls.example.com:8883`).
   * With `mtlsServerCertificate`, synthesis fails unless the certificate SANs,
   * the TLSRoute hostnames and each URL's host agree.
   * @default - no check
   */
  readonly mtlsClientUrls?: string[];
  /**
   * Namespaces whose routes the four listeners admit.
   * @default AllowedRoutes.all()
   */
  readonly allowedRoutes?: AllowedRoutes;
}

/** The event bus listeners and routes {@link EventBusGateway.addEventBusListeners} added. */
export interface EventBusListeners {
  /** `mqtt` (1883): TLS-terminate, or TCP. */
  readonly mqtt: IGatewayListener;
  /** `nats-client` (4222). */
  readonly natsClient: IGatewayListener;
  /** `nats-leafnode` (the NATS leafnode port). */
  readonly natsLeafnode: IGatewayListener;
  /** `mqtt-mtls` (8883, TLS passthrough), when mTLS is enabled. */
  readonly mqttMtls?: TlsPassthroughListener;
  /** Route `nats-mqtt` -> nats:1883. */
  readonly mqttRoute: GatewayRoute;
  /** Route `nats-client` -> nats:4222. */
  readonly natsClientRoute: GatewayRoute;
  /** Route `nats-leafnode` -> the `nats` Service's leafnode port. */
  readonly natsLeafnodeRoute: GatewayRoute;
  /** Route `nats-mqtt-mtls` -> nats-mtls:1883, when mTLS is enabled. */
  readonly mqttMtlsRoute?: GatewayRoute;
}

/** Props of {@link EventBusGateway.withEventBusListeners}: the gateway's and the event bus listeners'. */
export interface EventBusGatewayWithListenersProps extends EventBusGatewayProps, EventBusListenersOptions {}

/**
 * A Gateway the event bus's listeners and routes attach to: one this library
 * creates (`new EventBusGateway(...)`, `EventBusGateway.withEventBusListeners(...)`)
 * or one that exists already (`EventBusGateway.fromGatewayName(...)`).
 */
export interface IGateway extends IEventBusGateway {
  /** Listeners, in the order added. */
  readonly listeners: IGatewayListener[];
  /** The event bus listeners, once `addEventBusListeners` added them. */
  readonly eventBusListeners?: EventBusListeners;
  /** Adds a plain TCP listener. */
  addTcpListener(name: string, options: TcpListenerOptions): TcpListener;
  /** Adds a TLS listener that terminates TLS with `options.certificate`. */
  addTlsTerminateListener(name: string, options: TlsTerminateListenerOptions): TlsTerminateListener;
  /** Adds a TLS listener that passes TLS through to the backend. */
  addTlsPassthroughListener(name: string, options: TlsPassthroughListenerOptions): TlsPassthroughListener;
  /**
   * Adds the listeners of upstream's pre-deployment page with the upstream
   * chart's routes (see `EventBusGateway.addEventBusListeners`).
   */
  addEventBusListeners(options?: EventBusListenersOptions): EventBusListeners;
  /** The upstream chart's `global.eventBus.gateway.routes` values (see `EventBusGateway.routesHelmValues`). */
  routesHelmValues(): { [key: string]: any };
}

/** What a Gateway created here and one imported by name share: their name, routes settings and listeners. */
interface GatewayBaseProps {
  readonly metadata?: ApiObjectMetadata;
  readonly routeApiVersion?: RouteApiVersion;
  readonly routeRendering?: RouteRendering;
}

/**
 * The listeners, routes and route values of a Gateway, created here or
 * imported by name (module-internal: the two classes below extend it).
 */
abstract class GatewayBase extends Construct implements IGateway {
  /** Name of the Gateway. */
  public readonly name: string;
  /** Namespace of the Gateway, when known (set, or the chart's). */
  public readonly namespace?: string;
  /** API version of the routes. */
  public readonly routeApiVersion: RouteApiVersion;
  /** Who creates the routes. */
  public readonly routeRendering: RouteRendering;
  /** The chart's namespace (where routes go by default). @internal */
  public readonly _chartNamespace?: string;
  /** True for a Gateway from `fromGatewayName`: nothing of it is synthesized. @internal */
  public abstract readonly _existing: boolean;
  /** Labels of the objects this gateway synthesizes (standard and user labels). @internal */
  public readonly _labels: Record<string, string>;
  /** The user's labels, passed on to the EnvoyProxy and routes. @internal */
  public readonly _userLabels: Record<string, string>;
  /** The resolved metadata (name, namespace as set, labels, annotations). @internal */
  protected readonly _metadata: ReturnType<typeof resolveMetadata>;

  private readonly _listeners: IGatewayListener[] = [];
  private _dsx?: EventBusListeners;
  private _leafnode?: LeafnodeEndpoint;

  protected constructor(scope: Construct, id: string, props: GatewayBaseProps) {
    super(scope, id);
    const where = this.node.path;
    const metadata = resolveMetadata(props.metadata, 'gateway', 'event-bus-gateway', where, 'Gateway name');
    this._metadata = metadata;
    this.name = metadata.name;
    this._labels = metadata.labels;
    this._userLabels = { ...props.metadata?.labels };
    this._chartNamespace = Chart.of(this).namespace;
    this.namespace = metadata.namespace ?? this._chartNamespace;
    this.routeApiVersion = props.routeApiVersion ?? RouteApiVersion.V1ALPHA2;
    this.routeRendering = props.routeRendering ?? RouteRendering.HELM_VALUES;
    if (!Object.values(RouteApiVersion).includes(this.routeApiVersion)) {
      throw problem({ where, problem: `routeApiVersion ${quote(this.routeApiVersion)} is unknown`, allowed: Object.values(RouteApiVersion).join(', ') });
    }
    if (!Object.values(RouteRendering).includes(this.routeRendering)) {
      throw problem({ where, problem: `routeRendering ${quote(this.routeRendering)} is unknown`, allowed: Object.values(RouteRendering).join(', ') });
    }
    if (this.routeRendering === RouteRendering.HELM_VALUES) {
      if (this.routeApiVersion !== RouteApiVersion.V1ALPHA2) {
        throw problem({
          where,
          problem: `routeApiVersion ${this.routeApiVersion} cannot be expressed in the upstream chart's Helm values: the chart creates its routes as gateway.networking.k8s.io/v1alpha2`,
          allowed: 'RouteApiVersion.V1ALPHA2 with RouteRendering.HELM_VALUES; any version with RouteRendering.MANIFESTS',
          fix: 'set routeRendering: RouteRendering.MANIFESTS (the library then renders the routes and disables the chart\'s), or use RouteApiVersion.V1ALPHA2',
        });
      }
      if (this.namespace === undefined) {
        throw problem({
          where,
          problem: 'the Gateway\'s namespace is unknown, and the chart\'s route values need it (gatewayNamespace)',
          fix: 'set namespace, or give the chart a namespace',
        });
      }
    }

    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (this._listeners.length === 0) {
          errors.push('the Gateway has no listeners. Allowed: at least one. Fix: call addEventBusListeners() or add*Listener().');
        }
        for (const l of this._listeners) {
          if (l.routes.length === 0) {
            errors.push(`listener ${quote(l.name)} (${l.node.path}) has no route. Envoy rejects TCP and TLS listeners without an attached route. Fix: call addRoute() on the listener, or remove it.`);
          }
        }
        return errors;
      },
    });
  }

  /** Listeners, in the order added. */
  public get listeners(): IGatewayListener[] {
    return [...this._listeners];
  }

  /** The event bus listeners, once `addEventBusListeners` (or `withEventBusListeners`) added them. */
  public get eventBusListeners(): EventBusListeners | undefined {
    return this._dsx;
  }

  /**
   * Where the CPCs' leaf remotes reach this gateway: the `nats-leafnode`
   * listener's scheme and port and the gateway's addresses. Undefined until
   * `addEventBusListeners` (or `withEventBusListeners`) added the listeners.
   */
  public get leafnodeEndpoint(): LeafnodeEndpoint | undefined {
    return this._leafnode;
  }

  /** Adds a plain TCP listener. */
  public addTcpListener(name: string, options: TcpListenerOptions): TcpListener {
    return new TcpListener(this, name, options);
  }

  /** Adds a TLS listener that terminates TLS with `options.certificate`. */
  public addTlsTerminateListener(name: string, options: TlsTerminateListenerOptions): TlsTerminateListener {
    return new TlsTerminateListener(this, name, options);
  }

  /** Adds a TLS listener that passes TLS through to the backend. */
  public addTlsPassthroughListener(name: string, options: TlsPassthroughListenerOptions): TlsPassthroughListener {
    return new TlsPassthroughListener(this, name, options);
  }

  /**
   * Adds the listeners of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource) with the upstream chart's
   * routes: `mqtt` 1883, `nats-client` 4222, `nats-leafnode` (the NATS leafnode port)
   * (TLS-terminate, or TCP) and, unless `mtls: false`, `mqtt-mtls` 8883
   * (TLS passthrough).
   */
  public addEventBusListeners(options: EventBusListenersOptions = {}): EventBusListeners {
    const where = this.node.path;
    if (this._dsx) throw problem({ where, problem: 'the event bus listeners were added already', fix: 'call addEventBusListeners() once per gateway' });
    const transport = resolveTransport(options.transport);
    const allowedRoutes = options.allowedRoutes;
    const chart = (key: string) => CHART_ROUTES.find((r) => r.valuesKey === key)!;
    const plain: Array<[string, string, RouteBackend]> = [
      ['mqtt', 'Mqtt', RouteBackend.natsMqtt()],
      ['natsClient', 'NatsClient', RouteBackend.natsClient()],
      ['natsLeafnode', 'NatsLeafnode', RouteBackend.natsLeafnode()],
    ];
    const listeners: IGatewayListener[] = [];
    const routes: GatewayRoute[] = [];
    if (transport === GatewayTransport.TLS) {
      if (!options.certificate && !this._existing) {
        throw problem({ where, field: 'certificate', problem: 'transport TLS needs a certificate for the TLS-terminate listeners', allowed: 'a ServerCertificate or ServerCertificate.fromSecretName(...)', fix: 'pass certificate, or use transport: GatewayTransport.TCP' });
      }
      let hostnames = options.hostnames;
      if (hostnames === undefined && this.routeApiVersion === RouteApiVersion.V1 && options.certificate instanceof ServerCertificate) {
        hostnames = options.certificate.dnsNames;
      }
      for (const [key, routeId, backend] of plain) {
        const c = chart(key);
        // An existing Gateway's listeners have their certificates: none is needed (or rendered).
        const l = this.addTlsTerminateListener(c.sectionName, { port: c.port, certificate: options.certificate!, allowedRoutes });
        listeners.push(l);
        routes.push(l.addRoute(routeId, { backend, hostnames: this.routeApiVersion === RouteApiVersion.V1 ? hostnames : undefined }));
      }
    } else if (transport === GatewayTransport.TCP) {
      if (options.certificate) {
        throw problem({ where, field: 'certificate', problem: 'certificate is set but transport is TCP, which does not use it', fix: 'remove certificate, or use transport: GatewayTransport.TLS' });
      }
      if (options.hostnames) {
        throw problem({ where, problem: 'hostnames are set but transport is TCP: TCP listeners and TCPRoutes have no hostnames', fix: 'remove hostnames' });
      }
      for (const [key, routeId, backend] of plain) {
        const c = chart(key);
        const l = this.addTcpListener(c.sectionName, { port: c.port, allowedRoutes });
        listeners.push(l);
        routes.push(l.addRoute(routeId, { backend }));
      }
    } else {
      throw problem({ where, problem: `transport ${quote(transport)} is unknown`, allowed: 'GatewayTransport.TLS, GatewayTransport.TCP' });
    }

    let mqttMtls: TlsPassthroughListener | undefined;
    let mqttMtlsRoute: GatewayRoute | undefined;
    if (options.mtls ?? true) {
      mqttMtls = this.addTlsPassthroughListener('mqtt-mtls', { port: 8883, allowedRoutes });
      mqttMtlsRoute = mqttMtls.addTlsRoute('MqttMtls', {
        backend: RouteBackend.natsMqttMtls(),
        hostnames: options.mtlsHostnames,
        serverCertificate: options.mtlsServerCertificate,
        clientUrls: options.mtlsClientUrls,
      });
    } else if (options.mtlsHostnames || options.mtlsServerCertificate || options.mtlsClientUrls) {
      throw problem({ where, problem: 'mTLS options are set but mtls is false', fix: 'remove mtlsHostnames/mtlsServerCertificate/mtlsClientUrls, or enable mtls' });
    }
    this._dsx = {
      mqtt: listeners[0],
      natsClient: listeners[1],
      natsLeafnode: listeners[2],
      mqttMtls,
      mqttRoute: routes[0],
      natsClientRoute: routes[1],
      natsLeafnodeRoute: routes[2],
      mqttMtlsRoute,
    };
    const certificate = options.certificate instanceof ServerCertificate ? options.certificate : undefined;
    const hosts = [...(options.addresses ?? (certificate ? [...certificate.dnsNames, ...certificate.ipAddresses] : []))];
    const scheme = transport === GatewayTransport.TLS ? 'tls' : 'nats';
    const port = listeners[2].port;
    this._leafnode = { scheme, port, hosts, url: hosts.length ? formatUrl(scheme, hosts[0], port) : undefined };
    return this._dsx;
  }

  /**
   * The upstream chart's `global.eventBus.gateway.routes` values: one entry
   * per chart route (`mqtt`, `natsClient`, `natsLeafnode`, `mqttMtls`).
   *
   * A route this gateway has becomes `{enabled, kind, gatewayName,
   * gatewayNamespace, sectionName, hostnames}`, with `enabled: true` under
   * Helm-values rendering (the chart creates it) and `enabled: false` under
   * manifest rendering (the library creates it), so the chart and the library
   * never both create a route. A chart route the gateway lacks (e.g.
   * `mqttMtls` with mTLS disabled) becomes `{enabled: false}`. The chart
   * creates `mqttMtls` only when `global.eventBus.mtls.enabled` is true.
   */
  public routesHelmValues(): { [key: string]: any } {
    const values: { [key: string]: any } = {};
    const byChartRoute = (c: typeof CHART_ROUTES[number]) => this._routes().find((r) => this.routeRendering === RouteRendering.HELM_VALUES
      ? r._helmValuesKey === c.valuesKey
      : r.name === c.routeName && r.backend.serviceName === c.service && r.backend.port === c.port);
    for (const c of CHART_ROUTES) {
      const route = byChartRoute(c);
      values[c.valuesKey] = route
        ? {
          enabled: this.routeRendering === RouteRendering.HELM_VALUES,
          kind: route.kind,
          gatewayName: this.name,
          ...(this.namespace !== undefined ? { gatewayNamespace: this.namespace } : {}),
          sectionName: route.sectionName,
          hostnames: route.hostnames,
        }
        : { enabled: false };
    }
    return values;
  }

  /** Every route of every listener. @internal */
  public _routes(): IGatewayRoute[] {
    return this._listeners.flatMap((l) => l.routes);
  }

  /**
   * Gateway API listener rules, checked before a listener is created:
   * section-name syntax, unique names, and no port/protocol/hostname conflict.
   * @internal
   */
  public _checkListener(name: string, port: number, protocol: string, hostname: string | undefined): void {
    const where = `${this.node.path}/${name}`;
    if (typeof name !== 'string' || name.length === 0 || name.length > 253 || !SECTION_NAME.test(name)) {
      throw problem({
        where: this.node.path,
        problem: `listener name ${quote(name)} is not a valid Gateway API section name`,
        allowed: "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters (routes refer to it as sectionName)",
        fix: 'use a name such as "mqtt-mtls"',
      });
    }
    validatePort(port, where, 'listener port');
    for (const l of this._listeners) {
      if (l.name === name) {
        throw problem({ where, problem: `listener name ${quote(name)} is used twice`, allowed: 'unique listener names within a Gateway', fix: 'choose another name' });
      }
      if (l.port !== port) continue;
      const other = `listener ${quote(l.name)} (${l.protocol} on port ${port}${l._sniHostname() ? `, hostname ${quote(l._sniHostname())}` : ''})`;
      if (l.protocol !== protocol) {
        throw problem({ where, problem: `port ${port} is already used by ${other}; ${protocol} on the same port conflicts`, allowed: 'one protocol per port', fix: 'use another port' });
      }
      if (protocol === 'TCP') {
        throw problem({ where, problem: `port ${port} is already used by ${other}; two TCP listeners cannot share a port (TCP has no hostname to tell them apart)`, allowed: 'one TCP listener per port', fix: 'use another port' });
      }
      if ((l._sniHostname() ?? '') === (hostname ?? '')) {
        throw problem({
          where,
          problem: `port ${port} and ${hostname ? `hostname ${quote(hostname)}` : 'no hostname'} are already used by ${other}`,
          allowed: 'TLS listeners on one port only with distinct hostnames (SNI)',
          fix: 'use another port, or give each listener its own hostname',
        });
      }
    }
  }

  /** @internal */
  public _registerListener(listener: IGatewayListener): void {
    this._listeners.push(listener);
  }
}

/**
 * A Gateway API `Gateway` (gateway.networking.k8s.io/v1) for the DSX Event
 * Bus, with its listeners and routes, and the Envoy Gateway `EnvoyProxy` it
 * names in `infrastructure.parametersRef`.
 *
 * Listeners are typed (`TcpListener`, `TlsTerminateListener`,
 * `TlsPassthroughListener`) and routes are created from them, so a wrong
 * pairing does not compile and `sectionName` is never typed by hand.
 * `EventBusGateway.withEventBusListeners(...)` builds the gateway of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource)
 * in one call.
 */
export class EventBusGateway extends GatewayBase {
  /**
   * The gateway of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource) in one call: listeners `mqtt` (1883),
   * `nats-client` (4222), `nats-leafnode` (the NATS leafnode port), TLS-terminate (or TCP),
   * and `mqtt-mtls` (8883, TLS passthrough) unless mTLS is disabled, each
   * with the upstream chart's route.
   */
  public static withEventBusListeners(scope: Construct, id: string, props: EventBusGatewayWithListenersProps = {}): EventBusGateway {
    const gateway = new EventBusGateway(scope, id, props);
    gateway.addEventBusListeners(props);
    return gateway;
  }

  /**
   * A Gateway that exists already (created by a platform team or another
   * chart), by name: no Gateway and no EnvoyProxy are synthesized. Declare
   * the listeners it has with `addEventBusListeners()` (its listeners must be
   * named `mqtt`, `nats-client`, `nats-leafnode` and `mqtt-mtls`, as on the
   * [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#listener-to-route-mapping)) or the `add*Listener` methods (the listener name is
   * the routes' `sectionName`); the routes, or the upstream chart's route
   * values (`routesHelmValues()`), then target that Gateway and its
   * listeners. TLS-terminate listeners need no certificate here: the Gateway
   * has its own.
   * @param scope where the routes are created
   * @param id construct id
   * @param name the Gateway's name
   * @param namespace its namespace; default: the chart's namespace
   * @param options the routes' API version, rendering and labels
   */
  public static fromGatewayName(
    scope: Construct, id: string, name: string, namespace?: string, options: ExistingGatewayOptions = {},
  ): IGateway {
    return new ImportedGateway(scope, id, {
      metadata: { name, namespace, labels: options.routeLabels },
      routeApiVersion: options.routeApiVersion,
      routeRendering: options.routeRendering,
    });
  }

  /** GatewayClass. */
  public readonly gatewayClassName: string;
  /** The EnvoyProxy named in `infrastructure.parametersRef`. */
  public readonly envoyProxy: IEnvoyProxy;
  /** The generated Gateway object. */
  public readonly resource: ApiObject;
  /** Always false: this Gateway is synthesized. @internal */
  public readonly _existing = false;

  constructor(scope: Construct, id: string, props: EventBusGatewayProps = {}) {
    super(scope, id, props);
    const where = this.node.path;
    const metadata = this._metadata;
    this.gatewayClassName = props.gatewayClassName ?? 'eg';
    validateObjectName(this.gatewayClassName, where, 'gatewayClassName');

    if (props.envoyProxy) {
      const ns = props.envoyProxy.envoyProxyNamespace;
      if (ns !== undefined && this.namespace !== undefined && ns !== this.namespace) {
        throw problem({
          where,
          problem: `EnvoyProxy ${quote(props.envoyProxy.envoyProxyName)} is in namespace ${quote(ns)} but the Gateway is in ${quote(this.namespace)}`,
          allowed: 'an EnvoyProxy in the Gateway\'s namespace (Envoy Gateway resolves a Gateway\'s parametersRef locally)',
          fix: 'create the EnvoyProxy in the Gateway\'s namespace',
        });
      }
      this.envoyProxy = props.envoyProxy;
    } else {
      this.envoyProxy = new EventBusEnvoyProxy(this, 'Proxy', { metadata: { namespace: metadata.namespace, labels: this._userLabels } });
    }

    const { Gateway } = gatewaysModule();
    const spec = (): GatewaySpec => ({
      gatewayClassName: this.gatewayClassName,
      infrastructure: {
        parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: this.envoyProxy.envoyProxyName },
      },
      listeners: this.listeners.map((l) => l._render()),
    });
    this.resource = new Gateway(this, 'Resource', {
      metadata: { name: this.name, namespace: metadata.namespace, labels: metadata.labels, annotations: metadata.annotations },
      spec: Lazy.any({ produce: spec }),
    });
  }
}

/**
 * A Gateway that exists already (`EventBusGateway.fromGatewayName`): its
 * listeners and routes are declared here, nothing of the Gateway itself is
 * synthesized, and its TLS-terminate listeners need no certificate.
 */
class ImportedGateway extends GatewayBase {
  /** @internal */
  public readonly _existing = true;

  constructor(scope: Construct, id: string, props: GatewayBaseProps) {
    super(scope, id, props);
  }
}
