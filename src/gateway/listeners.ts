import { Construct } from 'constructs';
import { parseClientUrl } from '../endpoint';
import { problem, quote } from '../errors';
import { resolveMetadata } from '../labels';
import type { IEventBusGateway, IGatewayListener, IGatewayRoute } from './contracts';
import { AllowedRoutes, CHART_ROUTES, RouteApiVersion, RouteKind, RouteRendering } from './route-types';
import { GatewayRoute, GatewayRouteOptions, RouteDecision, TerminateRouteOptions, TlsRouteOptions } from './routes';
import type { GatewaySpecListeners } from '../imports/gwapi-gateways-gateway.networking.k8s.io';
import { dnsNameCovers, validateNamespace, validateObjectName, validateSniHostname } from '../k8s/names';
import type { ITlsSecretSource } from '../secrets/tls-secret';

/** Options of every listener. */
export interface ListenerOptions {
  /** Port the gateway listens on. */
  readonly port: number;
  /**
   * Namespaces whose routes may attach.
   * @default AllowedRoutes.all() (the setting of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource))
   */
  readonly allowedRoutes?: AllowedRoutes;
}

/** Options of a plain TCP listener. It has no hostname: TCP carries no SNI. */
export interface TcpListenerOptions extends ListenerOptions {}

/** Options of a TLS listener that terminates TLS at the gateway. */
export interface TlsTerminateListenerOptions extends ListenerOptions {
  /**
   * The certificate the gateway presents: a `ServerCertificate`, or
   * `ServerCertificate.fromSecretName(...)` for a Secret provisioned elsewhere.
   * `certificateRefs[0].name` is its Secret name. A Secret in another
   * namespace than the Gateway is referenced with its namespace and needs a
   * ReferenceGrant there (which this library does not create). On a
   * Gateway from `EventBusGateway.fromGatewayName` it only documents the
   * existing listener's certificate: nothing is rendered.
   */
  readonly certificate: ITlsSecretSource;
  /**
   * SNI hostname the listener matches (DNS name, `*.` allowed).
   * @default - every hostname
   */
  readonly hostname?: string;
}

/**
 * Options of a TLS listener that passes TLS through to the backend (which
 * verifies client certificates itself). It takes no certificate.
 */
export interface TlsPassthroughListenerOptions extends ListenerOptions {
  /**
   * SNI hostname the listener matches (DNS name, `*.` allowed).
   * @default - every hostname
   */
  readonly hostname?: string;
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/**
 * What the three listener classes share. Not exported: jsii erases it, so the
 * API shows no constructor of an abstract listener; the public type is
 * {@link IGatewayListener}.
 */
abstract class ListenerBase extends Construct implements IGatewayListener {
  /** Listener name: the routes' `sectionName`. */
  public readonly name: string;
  /** Port. */
  public readonly port: number;
  /** The gateway. */
  public readonly gateway: IEventBusGateway;
  /** Namespaces whose routes may attach. */
  public readonly allowedRoutes: AllowedRoutes;
  /** `TCP` or `TLS`. */
  public readonly protocol: string;

  private readonly _routes: GatewayRoute[] = [];

  protected constructor(gateway: IEventBusGateway, name: string, options: ListenerOptions, protocol: string, hostname: string | undefined) {
    // Checked before the construct exists, so a rejected listener leaves no trace.
    gateway._checkListener(name, options?.port, protocol, hostname);
    super(gateway, name);
    this.name = name;
    this.port = options.port;
    this.gateway = gateway;
    this.protocol = protocol;
    this.allowedRoutes = options.allowedRoutes ?? AllowedRoutes.all();
    gateway._registerListener(this);
  }

  /** Routes attached to this listener, in the order added. */
  public get routes(): IGatewayRoute[] {
    return [...this._routes];
  }

  /** SNI hostname, for TLS listeners that set one. @internal */
  public abstract _sniHostname(): string | undefined;

  /** The route kinds this listener accepts (`allowedRoutes.kinds`). @internal */
  public abstract _routeKind(): RouteKind;

  /** The listener's entry of `spec.listeners`. @internal */
  public _render(): GatewaySpecListeners {
    const from = this.allowedRoutes.from;
    return {
      name: this.name,
      protocol: this.protocol,
      port: this.port,
      hostname: this._sniHostname(),
      allowedRoutes: {
        kinds: [{ group: GATEWAY_GROUP, kind: this._routeKind() }],
        namespaces: {
          from: from as any,
          selector: this.allowedRoutes.labels ? { matchLabels: { ...this.allowedRoutes.labels } } : undefined,
        },
      },
      tls: this._renderTls(),
    };
  }

  /** @internal */
  protected abstract _renderTls(): GatewaySpecListeners['tls'];

  /**
   * Checks a new route against this listener and the gateway's rendering
   * mode, then creates it. Every rule that can be checked now throws here,
   * at the call that received the bad value.
   * @internal
   */
  protected _addRoute(
    id: string, kind: RouteKind, options: GatewayRouteOptions, requestedHostnames: string[] | undefined, tls?: TlsRouteOptions,
  ): GatewayRoute {
    const where = `${this.node.path}/${id}`;
    const gw = this.gateway;
    if (!options || !options.backend || typeof options.backend.serviceName !== 'string') {
      throw problem({ where, problem: 'backend is missing', allowed: 'a RouteBackend', fix: 'pass backend: RouteBackend.natsMqtt() (or natsClient(), natsLeafnode(), natsMqttMtls(), service(name, port))' });
    }
    const backend = options.backend;
    const requestedName = options.metadata?.name;
    const requestedNamespace = options.metadata?.namespace;
    if (requestedNamespace !== undefined) validateNamespace(requestedNamespace, where, 'route namespace');
    const chartRoute = CHART_ROUTES.find((r) => r.service === backend.serviceName && r.port === backend.port);
    const name = requestedName ?? chartRoute?.routeName ?? this.name;
    const metadata = resolveMetadata({ ...options.metadata, labels: { ...gw._userLabels, ...options.metadata?.labels } }, 'gateway', name, where, 'route name');

    // Hostnames: only a TLSRoute has them.
    const hostnames = requestedHostnames ?? (this._sniHostname() !== undefined && kind === RouteKind.TLS_ROUTE ? [this._sniHostname()!] : []);
    if (kind === RouteKind.TCP_ROUTE && requestedHostnames && requestedHostnames.length) {
      throw problem({
        where,
        problem: `hostnames ${JSON.stringify(requestedHostnames)} are set on a route that renders as TCPRoute (route API ${gw.routeApiVersion}), which has no hostnames`,
        allowed: 'hostnames only on TLSRoutes',
        fix: 'remove hostnames, or use route API v1 (a TLS-terminate listener then pairs with TLSRoute)',
      });
    }
    const seen = new Set<string>();
    for (const h of hostnames) {
      validateSniHostname(h, where, 'TLSRoute hostname');
      if (seen.has(h)) throw problem({ where, problem: `TLSRoute hostname ${quote(h)} is listed twice`, fix: 'list each hostname once' });
      seen.add(h);
    }
    if (kind === RouteKind.TLS_ROUTE && gw.routeApiVersion === RouteApiVersion.V1 && hostnames.length === 0) {
      throw problem({
        where,
        problem: `TLSRoute ${quote(name)} has no hostnames, which gateway.networking.k8s.io/v1 requires`,
        allowed: 'at least one DNS hostname (the SNI clients send)',
        fix: `pass hostnames, or give listener ${quote(this.name)} a hostname`,
      });
    }
    const listenerHost = this._sniHostname();
    if (listenerHost !== undefined && hostnames.length && !hostnames.some((h) => dnsNameCovers(listenerHost, h) || dnsNameCovers(h, listenerHost))) {
      throw problem({
        where,
        problem: `TLSRoute hostnames ${JSON.stringify(hostnames)} do not intersect listener ${quote(this.name)}'s hostname ${quote(listenerHost)}, so the listener would not accept the route`,
        allowed: `hostnames matching ${quote(listenerHost)}`,
        fix: 'use hostnames the listener matches, or change the listener hostname',
      });
    }

    // Namespaces the listener admits.
    const routeNamespace = requestedNamespace ?? gw._chartNamespace;
    if (this.allowedRoutes.from === 'Same' && routeNamespace !== undefined && gw.namespace !== undefined && routeNamespace !== gw.namespace) {
      throw problem({
        where,
        problem: `route namespace ${quote(routeNamespace)} is not the Gateway's namespace ${quote(gw.namespace)}, and listener ${quote(this.name)} admits routes from its own namespace only`,
        allowed: 'a route in the Gateway\'s namespace, or a listener with AllowedRoutes.all()',
        fix: 'set allowedRoutes: AllowedRoutes.all() on the listener, or put the route in the Gateway\'s namespace',
      });
    }

    // Hostname agreement inputs: both or neither.
    let agreement: RouteDecision['agreement'];
    if (tls && (tls.serverCertificate !== undefined || tls.clientUrls !== undefined)) {
      if (!tls.serverCertificate || !tls.clientUrls || tls.clientUrls.length === 0) {
        throw problem({ where, problem: 'hostname agreement needs both serverCertificate and clientUrls', fix: `pass ${tls.serverCertificate ? 'clientUrls (the broker URLs clients use)' : 'serverCertificate (the backend\'s certificate)'} too, or neither` });
      }
      for (const url of tls.clientUrls) parseClientUrl(url, where);
      agreement = { certificate: tls.serverCertificate, clientUrls: [...tls.clientUrls] };
    }

    let helmValuesKey: string | undefined;
    if (gw.routeRendering === RouteRendering.HELM_VALUES) {
      const switchFix = 'switch the gateway to routeRendering: RouteRendering.MANIFESTS (the library then renders every route and disables the chart\'s)';
      const chartRoutes = CHART_ROUTES.map((r) => `${r.routeName} -> ${r.service}:${r.port}`).join(', ');
      if (!chartRoute || backend.namespace !== undefined) {
        throw problem({
          where,
          problem: `backend ${backend} is not one of the upstream chart's routes, and with Helm-values rendering the chart creates the routes with hard-coded names and backends`,
          allowed: `the chart's routes: ${chartRoutes} (in the release namespace)`,
          fix: switchFix,
        });
      }
      if (requestedName !== undefined && requestedName !== chartRoute.routeName) {
        throw problem({ where, problem: `route name ${quote(requestedName)} differs from the name the chart gives the route for ${backend} (${quote(chartRoute.routeName)})`, allowed: quote(chartRoute.routeName), fix: `omit name, or ${switchFix}` });
      }
      if (requestedNamespace !== undefined) {
        throw problem({ where, problem: `route namespace ${quote(requestedNamespace)} is set, but the chart creates its routes in its release namespace`, allowed: 'no route namespace with Helm-values rendering', fix: `omit namespace, or ${switchFix}` });
      }
      const taken = gw._routes().find((r) => r._helmValuesKey === chartRoute.valuesKey);
      if (taken) {
        throw problem({ where, problem: `the chart's route ${quote(chartRoute.routeName)} (values key ${chartRoute.valuesKey}) is already used by ${taken.node.path}`, allowed: 'each chart route once', fix: `remove one of the two routes, or ${switchFix}` });
      }
      helmValuesKey = chartRoute.valuesKey;
    } else {
      const clash = gw._routes().find((r) => r.kind === kind && r.name === name && (r.namespace ?? gw._chartNamespace) === routeNamespace);
      if (clash) {
        throw problem({ where, problem: `a ${kind} named ${quote(name)} already exists in this namespace (${clash.node.path})`, allowed: 'unique route names per kind and namespace', fix: 'pass a different name' });
      }
    }

    const route = GatewayRoute._create(this, {
      id,
      kind,
      name,
      namespace: requestedNamespace,
      labels: metadata.labels,
      annotations: metadata.annotations,
      backend,
      hostnames,
      helmValuesKey,
      agreement,
    });
    this._routes.push(route);
    return route;
  }
}

/** A plain TCP listener (`protocol: TCP`): carries TCPRoutes only; no TLS, no hostname. */
export class TcpListener extends ListenerBase {
  // Brand: keeps the three listener classes from being structurally interchangeable.
  private readonly tcpListenerBrand = true;

  constructor(gateway: IEventBusGateway, name: string, options: TcpListenerOptions) {
    super(gateway, name, options, 'TCP', undefined);
    void this.tcpListenerBrand;
  }

  /** Attaches a TCPRoute. */
  public addRoute(id: string, options: GatewayRouteOptions): GatewayRoute {
    return this._addRoute(id, RouteKind.TCP_ROUTE, options, undefined);
  }

  /** Attaches a TCPRoute (same as `addRoute`, with the kind spelled out). */
  public addTcpRoute(id: string, options: GatewayRouteOptions): GatewayRoute {
    return this._addRoute(id, RouteKind.TCP_ROUTE, options, undefined);
  }

  /** @internal */
  public _sniHostname(): string | undefined {
    return undefined;
  }

  /** @internal */
  public _routeKind(): RouteKind {
    return RouteKind.TCP_ROUTE;
  }

  /** @internal */
  protected _renderTls(): undefined {
    return undefined;
  }
}

/**
 * A TLS listener in Terminate mode: the gateway presents `certificate` and
 * forwards the decrypted stream. With route API v1alpha2 it carries TCPRoutes
 * (the table of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#listener-to-route-mapping)); with v1 it carries TLSRoutes, as the
 * newer Gateway API spec pairs Terminate with TLSRoute.
 */
export class TlsTerminateListener extends ListenerBase {
  /** The certificate the gateway presents; undefined on a Gateway from `fromGatewayName` when not given. */
  public readonly certificate?: ITlsSecretSource;
  /** SNI hostname, if any. */
  public readonly hostname?: string;
  private readonly tlsTerminateListenerBrand = true;

  constructor(gateway: IEventBusGateway, name: string, options: TlsTerminateListenerOptions) {
    const where = `${gateway.node.path}/${name}`;
    if (options?.certificate !== undefined || !gateway._existing) {
      if (!options?.certificate || typeof options.certificate.tlsSecretName !== 'string') {
        throw problem({ where, problem: 'a TLS-terminate listener needs a certificate', allowed: 'a ServerCertificate, or ServerCertificate.fromSecretName(...)', fix: 'pass certificate' });
      }
      validateObjectName(options.certificate.tlsSecretName, where, 'certificate Secret name');
    }
    if (options.hostname !== undefined) validateSniHostname(options.hostname, where, 'listener hostname');
    super(gateway, name, options, 'TLS', options.hostname);
    this.certificate = options.certificate;
    this.hostname = options.hostname;
    void this.tlsTerminateListenerBrand;
  }

  /**
   * Attaches the route this listener pairs with under the gateway's route API:
   * a TCPRoute with v1alpha2, a TLSRoute with v1.
   */
  public addRoute(id: string, options: TerminateRouteOptions): GatewayRoute {
    const kind = this._routeKind();
    return this._addRoute(id, kind, options, options?.hostnames);
  }

  /**
   * Attaches a TCPRoute: the pairing of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#listener-to-route-mapping), valid with route
   * API v1alpha2 only. With v1 this throws: the spec pairs Terminate with TLSRoute.
   */
  public addTcpRoute(id: string, options: GatewayRouteOptions): GatewayRoute {
    if (this.gateway.routeApiVersion === RouteApiVersion.V1) {
      throw problem({
        where: `${this.node.path}/${id}`,
        problem: `a TCPRoute on TLS-terminate listener ${quote(this.name)} is the v1alpha2 pairing (Envoy Gateway 1.5+, https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#listener-to-route-mapping); with route API v1 the Gateway API spec pairs a TLS listener in Terminate mode with TLSRoute, so the listener would not accept a TCPRoute`,
        allowed: 'addRoute() (TLSRoute under v1, TCPRoute under v1alpha2), or addTcpRoute() with routeApiVersion V1ALPHA2',
        fix: 'call addRoute(id, { backend, hostnames }) instead, or set routeApiVersion: RouteApiVersion.V1ALPHA2 on the gateway',
      });
    }
    return this._addRoute(id, RouteKind.TCP_ROUTE, options, undefined);
  }

  /** @internal */
  public _sniHostname(): string | undefined {
    return this.hostname;
  }

  /** @internal */
  public _routeKind(): RouteKind {
    return this.gateway.routeApiVersion === RouteApiVersion.V1 ? RouteKind.TLS_ROUTE : RouteKind.TCP_ROUTE;
  }

  /** @internal */
  protected _renderTls(): GatewaySpecListeners['tls'] {
    const certificate = this.certificate!; // set unless the gateway exists, and then nothing is rendered
    const ns = certificate.tlsSecretNamespace;
    return {
      mode: 'Terminate' as any,
      certificateRefs: [{
        kind: 'Secret',
        name: certificate.tlsSecretName,
        // Only when it differs: a cross-namespace reference needs a ReferenceGrant in the Secret's namespace.
        namespace: ns !== undefined && ns !== this.gateway.namespace ? ns : undefined,
      }],
    };
  }
}

/**
 * A TLS listener in Passthrough mode: the gateway routes on the SNI and
 * forwards the still-encrypted stream, so the backend can verify client
 * certificates (the mTLS MQTT listener). Carries TLSRoutes only; takes no
 * certificate.
 */
export class TlsPassthroughListener extends ListenerBase {
  /** SNI hostname, if any. */
  public readonly hostname?: string;
  private readonly tlsPassthroughListenerBrand = true;

  constructor(gateway: IEventBusGateway, name: string, options: TlsPassthroughListenerOptions) {
    if (options?.hostname !== undefined) validateSniHostname(options.hostname, `${gateway.node.path}/${name}`, 'listener hostname');
    super(gateway, name, options, 'TLS', options?.hostname);
    this.hostname = options.hostname;
    void this.tlsPassthroughListenerBrand;
  }

  /** Attaches a TLSRoute (same as `addTlsRoute`). */
  public addRoute(id: string, options: TlsRouteOptions): GatewayRoute {
    return this.addTlsRoute(id, options);
  }

  /** Attaches a TLSRoute. */
  public addTlsRoute(id: string, options: TlsRouteOptions): GatewayRoute {
    return this._addRoute(id, RouteKind.TLS_ROUTE, options, options?.hostnames, options);
  }

  /** @internal */
  public _sniHostname(): string | undefined {
    return this.hostname;
  }

  /** @internal */
  public _routeKind(): RouteKind {
    return RouteKind.TLS_ROUTE;
  }

  /** @internal */
  protected _renderTls(): GatewaySpecListeners['tls'] {
    return { mode: 'Passthrough' as any };
  }
}
