export { GatewayTransport, EventBusGateway } from './gateway';
export type {
  EventBusGatewayProps, EventBusGatewayWithListenersProps, EventBusListeners, EventBusListenersOptions, ExistingGatewayOptions,
  IGateway, LeafnodeEndpoint,
} from './gateway';
export { EnvoyServiceType, EventBusEnvoyProxy } from './envoy-proxy';
export type { EnvoyResources, EventBusEnvoyProxyOptions, EventBusEnvoyProxyProps, IEnvoyProxy } from './envoy-proxy';
export { TcpListener, TlsPassthroughListener, TlsTerminateListener } from './listeners';
export type { IEventBusGateway, IGatewayListener, IGatewayRoute } from './contracts';
export type { ListenerOptions, TcpListenerOptions, TlsPassthroughListenerOptions, TlsTerminateListenerOptions } from './listeners';
export { GatewayRoute } from './routes';
export type { GatewayRouteOptions, TerminateRouteOptions, TlsRouteOptions } from './routes';
export { AllowedRoutes, RouteApiVersion, RouteBackend, RouteRendering } from './route-types';
export type { RouteBackendOptions } from './route-types';
