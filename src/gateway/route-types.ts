import { NATS_LEAFNODE_PORT } from '../endpoint';
import { problem, quote } from '../errors';
import { validateNamespace, validatePort } from '../k8s/names';

/** API version of the TCPRoute and TLSRoute objects. */
export enum RouteApiVersion {
  /**
   * `gateway.networking.k8s.io/v1alpha2`: what Envoy Gateway 1.5+ serves
   * (experimental channel) and what upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#listener-to-route-mapping) and the upstream
   * chart use. A TLS-terminate listener pairs with TCPRoute.
   */
  V1ALPHA2 = 'v1alpha2',
  /**
   * `gateway.networking.k8s.io/v1` (Gateway API 1.5+ standard channel). A
   * TLS-terminate listener pairs with TLSRoute (hostnames required), as the
   * newer spec requires. Needs manifest rendering: the upstream chart renders
   * its own routes.
   */
  V1 = 'v1',
}

/** Who creates the TCPRoute/TLSRoute objects. Never both: they would collide. */
export enum RouteRendering {
  /**
   * The upstream chart creates the routes from Helm values
   * (`global.eventBus.gateway.routes`, see `EventBusGateway.routesHelmValues()`);
   * the library synthesizes none. Only the chart's four routes
   * (nats-mqtt, nats-client, nats-leafnode, nats-mqtt-mtls) are expressible.
   */
  HELM_VALUES = 'helm-values',
  /**
   * The library synthesizes TCPRoute/TLSRoute manifests and disables all of
   * the chart's routes in the Helm values. Any route is expressible.
   */
  MANIFESTS = 'manifests',
}

/** Kind of a Gateway API route (library-internal: not exported from the package). */
export enum RouteKind {
  /** `TCPRoute`: forwards the (decrypted) byte stream. */
  TCP_ROUTE = 'TCPRoute',
  /** `TLSRoute`: routes on the TLS SNI. */
  TLS_ROUTE = 'TLSRoute',
}

/** Which namespaces may attach routes to a listener (`allowedRoutes.namespaces`). */
export class AllowedRoutes {
  /** Routes from every namespace (the setting of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource)). */
  public static all(): AllowedRoutes {
    return new AllowedRoutes('All');
  }

  /** Only routes in the Gateway's own namespace. */
  public static sameNamespace(): AllowedRoutes {
    return new AllowedRoutes('Same');
  }

  /** Routes from namespaces carrying all of these labels. */
  public static fromNamespacesWithLabels(labels: { [key: string]: string }): AllowedRoutes {
    if (!labels || Object.keys(labels).length === 0) {
      throw problem({ where: 'AllowedRoutes.fromNamespacesWithLabels()', problem: 'no labels given', allowed: 'at least one label', fix: 'pass e.g. { "kubernetes.io/metadata.name": "dsx" }, or use AllowedRoutes.all()' });
    }
    return new AllowedRoutes('Selector', { ...labels });
  }

  private constructor(
    /** `All`, `Same` or `Selector`. */
    public readonly from: string,
    /** Namespace labels for `Selector`. */
    public readonly labels?: { [key: string]: string },
  ) {}
}

/** One route of the upstream chart ([templates/gateway.yaml](https://github.com/NVIDIA/dsx-exchange/blob/main/deploy/nats-event-bus/templates/gateway.yaml)): values key, fixed name and backend. */
export interface ChartRoute {
  readonly valuesKey: string;
  readonly routeName: string;
  readonly service: string;
  readonly port: number;
  readonly sectionName: string;
}

/** The upstream chart's routes; it hard-codes their names and backends. */
export const CHART_ROUTES: readonly ChartRoute[] = [
  { valuesKey: 'mqtt', routeName: 'nats-mqtt', service: 'nats', port: 1883, sectionName: 'mqtt' },
  { valuesKey: 'natsClient', routeName: 'nats-client', service: 'nats', port: 4222, sectionName: 'nats-client' },
  { valuesKey: 'natsLeafnode', routeName: 'nats-leafnode', service: 'nats', port: NATS_LEAFNODE_PORT, sectionName: 'nats-leafnode' },
  { valuesKey: 'mqttMtls', routeName: 'nats-mqtt-mtls', service: 'nats-mtls', port: 1883, sectionName: 'mqtt-mtls' },
];

/** Options of {@link RouteBackend.service}. */
export interface RouteBackendOptions {
  /**
   * Namespace of the Service. A Service in another namespace than the route
   * needs a ReferenceGrant there.
   * @default - the route's namespace
   */
  readonly namespace?: string;
}

const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** The Service a route forwards to (`rules[0].backendRefs[0]`). */
export class RouteBackend {
  /** `nats:1883`: the chart's MQTT port (route `nats-mqtt`). */
  public static natsMqtt(): RouteBackend {
    return new RouteBackend('nats', 1883);
  }

  /** `nats:4222`: the chart's NATS client port (route `nats-client`). */
  public static natsClient(): RouteBackend {
    return new RouteBackend('nats', 4222);
  }

  /** `nats` on the chart's NATS leafnode port (route `nats-leafnode`). */
  public static natsLeafnode(): RouteBackend {
    return new RouteBackend('nats', NATS_LEAFNODE_PORT);
  }

  /** `nats-mtls:1883`: the chart's mTLS MQTT port (route `nats-mqtt-mtls`). */
  public static natsMqttMtls(): RouteBackend {
    return new RouteBackend('nats-mtls', 1883);
  }

  /** Any Service and port. */
  public static service(name: string, port: number, options: RouteBackendOptions = {}): RouteBackend {
    const where = 'RouteBackend.service()';
    if (typeof name !== 'string' || name.length > 63 || !SERVICE_NAME.test(name)) {
      throw problem({ where, problem: `Service name ${quote(name)} is invalid`, allowed: "RFC 1035 labels: lower-case letters, digits and '-', starting with a letter, at most 63 characters", fix: 'use the name of the Service, e.g. "nats"' });
    }
    validatePort(port, where, 'Service port');
    if (options.namespace !== undefined) validateNamespace(options.namespace, where);
    return new RouteBackend(name, port, options.namespace);
  }

  private constructor(
    /** Service name. */
    public readonly serviceName: string,
    /** Service port. */
    public readonly port: number,
    /** Service namespace, when not the route's. */
    public readonly namespace?: string,
  ) {}

  /** `name:port` (with `namespace/` when set), for messages. */
  public toString(): string {
    return `${this.namespace ? `${this.namespace}/` : ''}${this.serviceName}:${this.port}`;
  }
}
