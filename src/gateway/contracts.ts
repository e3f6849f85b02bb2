/**
 * The interfaces the gateway, its listeners and their routes know each other
 * by. Interfaces only, and nothing imported from gateway.ts, listeners.ts or
 * routes.ts, so the modules form one chain without cycles (not even through
 * `import type`): gateway.ts -> listeners.ts -> routes.ts -> contracts.ts.
 */
import type { ApiObject } from 'cdk8s';
import type { IConstruct } from 'constructs';
import type { AllowedRoutes, RouteApiVersion, RouteBackend, RouteRendering } from './route-types';
import type { GatewaySpecListeners } from '../imports/gwapi-gateways-gateway.networking.k8s.io';

/**
 * The gateway a listener belongs to, as its listeners and routes see it.
 * Implemented by `EventBusGateway` (create one with `new EventBusGateway(...)`
 * or `EventBusGateway.fromGatewayName(...)`).
 */
export interface IEventBusGateway extends IConstruct {
  /** Name of the Gateway: the routes' `parentRefs[0].name`. */
  readonly name: string;
  /** Namespace of the Gateway, when known (set, or the chart's). */
  readonly namespace?: string;
  /** API version of the routes. */
  readonly routeApiVersion: RouteApiVersion;
  /** Who creates the routes. */
  readonly routeRendering: RouteRendering;
  /** The chart's namespace (where routes go by default). @internal */
  readonly _chartNamespace?: string;
  /** True for a Gateway from `fromGatewayName`: nothing of it is synthesized. @internal */
  readonly _existing: boolean;
  /** The user's labels, passed on to the EnvoyProxy and routes. @internal */
  readonly _userLabels: Record<string, string>;
  /** Every route of every listener. @internal */
  _routes(): IGatewayRoute[];
  /**
   * Gateway API listener rules, checked before a listener is created.
   * @internal
   */
  _checkListener(name: string, port: number, protocol: string, hostname: string | undefined): void;
  /** @internal */
  _registerListener(listener: IGatewayListener): void;
}

/**
 * One listener of an `EventBusGateway`: a `TcpListener`,
 * `TlsTerminateListener` or `TlsPassthroughListener`, created with the
 * gateway's `add*Listener` methods (or `new TcpListener(gateway, ...)`). The
 * three kinds are distinct classes so that the compiler rejects a route kind a
 * listener cannot carry.
 */
export interface IGatewayListener extends IConstruct {
  /** Listener name: the routes' `sectionName`. */
  readonly name: string;
  /** Port. */
  readonly port: number;
  /** The gateway. */
  readonly gateway: IEventBusGateway;
  /** Namespaces whose routes may attach. */
  readonly allowedRoutes: AllowedRoutes;
  /** `TCP` or `TLS`. */
  readonly protocol: string;
  /** Routes attached to this listener, in the order added. */
  readonly routes: IGatewayRoute[];
  /** SNI hostname, for TLS listeners that set one. @internal */
  _sniHostname(): string | undefined;
  /** The listener's entry of `spec.listeners`. @internal */
  _render(): GatewaySpecListeners;
}

/**
 * A TCPRoute or TLSRoute attached to one listener: a `GatewayRoute`, created
 * with the listener's `addRoute`, `addTcpRoute` or `addTlsRoute`.
 */
export interface IGatewayRoute extends IConstruct {
  /** Name of the route object. */
  readonly name: string;
  /** `TCPRoute` or `TLSRoute`. */
  readonly kind: string;
  /** The listener the route attaches to. */
  readonly listener: IGatewayListener;
  /** The Service it forwards to. */
  readonly backend: RouteBackend;
  /** Namespace of the route object, when set explicitly. */
  readonly namespace?: string;
  /** `gateway.networking.k8s.io/<version>`. */
  readonly apiVersion: string;
  /** The synthesized object (manifest rendering only). */
  readonly resource?: ApiObject;
  /** SNI hostnames (TLSRoute only). */
  readonly hostnames: string[];
  /** The listener's name: the route's `parentRefs[0].sectionName`. */
  readonly sectionName: string;
  /** The chart's route values key, when the chart creates this route. @internal */
  readonly _helmValuesKey?: string;
}
