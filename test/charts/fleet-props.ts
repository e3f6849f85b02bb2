import { CertificateIssuer, EventBusFleetProps, FleetCpcOptions, SecretsDelivery } from '../../src';
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
 * `event-bus-certificate-issuer`; `extra` replaces any of it.
 */
export function testFleetProps(extra: Partial<EventBusFleetProps> = {}, ids = ['1', '2']): EventBusFleetProps {
  return {
    keys: testKeys,
    delivery: SecretsDelivery.inline(),
    certificates: { issuer: CertificateIssuer.fromIssuerName('event-bus-certificate-issuer') },
    csc: { gateway: { hostnames: ['csc.example.com'] } },
    cpcs: cpcEntries(ids),
    ...extra,
  };
}
