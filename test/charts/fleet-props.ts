import { CertificateIssuer, ClusterCertificates, EventBusFleetProps, FleetCpcOptions, GatewayTransport, LeafTrust, SecretsDelivery } from '../../src';
import { DeterministicKeyStore } from '../../src/testing';

/** The deterministic test key store the chart tests share. */
export const testKeys = new DeterministicKeyStore();

/** CPC entries with ids `ids`, each with its gateway hostname `cpc-<id>.example.com`. */
export function cpcEntries(ids: string[]): FleetCpcOptions[] {
  return ids.map((id) => ({ id, gateway: { hostnames: [`cpc-${id}.example.com`] } }));
}

/**
 * A test fleet: the CSC (`csc.example.com`) and CPCs `ids`, the deterministic
 * store, inline Secrets and the cert-manager issuer
 * `event-bus-certificate-issuer`; `extra` replaces any of it. With that
 * default issuer (one the library did not make) and a TLS gateway, the CPCs'
 * trust is stated: `cscTrust: LeafTrust.publicRoots()`, unless `extra` sets
 * the certificates, the trust or a plain-TCP endpoint.
 */
export function testFleetProps(extra: Partial<EventBusFleetProps> = {}, ids = ['1', '2']): EventBusFleetProps {
  const props: EventBusFleetProps = {
    keys: testKeys,
    delivery: SecretsDelivery.inline({ allowTestKeys: true }),
    certificates: ClusterCertificates.issuer(CertificateIssuer.fromIssuerName('event-bus-certificate-issuer')),
    csc: { gateway: { hostnames: ['csc.example.com'] } },
    cpcs: cpcEntries(ids),
    ...extra,
  };
  const tls = (props.gateway?.transport ?? GatewayTransport.TLS) === GatewayTransport.TLS && !props.cscEndpoint?.startsWith('nats://');
  const stated = 'cscTrust' in extra || props.cpcs.some((c) => c.cscTrust || c.cscEndpoint);
  return extra.certificates || stated || !tls ? props : { ...props, cscTrust: LeafTrust.publicRoots() };
}
