/**
 * The generated Gateway API and Envoy Gateway bindings, loaded on first use,
 * so `require('cdk8s-dsx-event-bus')` stays fast. The EnvoyProxy module is
 * generated from a pruned CRD (the fields EventBusEnvoyProxy sets; see
 * imports/README.md): 48 KB of JavaScript instead of 3.6 MB.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as envoyProxies from '../imports/eg-envoyproxies-gateway.envoyproxy.io';
import type * as gateways from '../imports/gwapi-gateways-gateway.networking.k8s.io';
import type * as tcpRoutes from '../imports/gwapi-tcproutes-gateway.networking.k8s.io';
import type * as tlsRoutes from '../imports/gwapi-tlsroutes-gateway.networking.k8s.io';

export function gatewaysModule(): typeof gateways {
  return require('../imports/gwapi-gateways-gateway.networking.k8s.io');
}

export function tcpRoutesModule(): typeof tcpRoutes {
  return require('../imports/gwapi-tcproutes-gateway.networking.k8s.io');
}

export function tlsRoutesModule(): typeof tlsRoutes {
  return require('../imports/gwapi-tlsroutes-gateway.networking.k8s.io');
}

export function envoyProxiesModule(): typeof envoyProxies {
  return require('../imports/eg-envoyproxies-gateway.envoyproxy.io');
}
