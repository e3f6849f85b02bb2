/**
 * The generated cert-manager bindings, loaded on first use: together they are
 * ~1.8 MB of JavaScript, and `require('cdk8s-dsx-event-bus')` should not pay
 * for them when no Certificate or Issuer is created.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as certificates from '../imports/cm-certificates-cert-manager.io';
import type * as clusterIssuers from '../imports/cm-clusterissuers-cert-manager.io';
import type * as issuers from '../imports/cm-issuers-cert-manager.io';

export function certificatesModule(): typeof certificates {
  return require('../imports/cm-certificates-cert-manager.io');
}

export function issuersModule(): typeof issuers {
  return require('../imports/cm-issuers-cert-manager.io');
}

export function clusterIssuersModule(): typeof clusterIssuers {
  return require('../imports/cm-clusterissuers-cert-manager.io');
}
