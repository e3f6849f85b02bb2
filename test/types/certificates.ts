/**
 * Type tests (checked by `npx projen test:types`, not run): a cluster's
 * certificates come from exactly one issuer source, chosen by a
 * ClusterCertificates factory. Removing an illegal line makes the unused
 * @ts-expect-error fail the type check.
 */
import { Duration } from 'cdk8s';
import {
  CertificateAuthority, CertificateIssuer, ClusterCertificates, EventBusClusterOptions, SecretsDelivery, VaultAuth,
} from '../../src';

const issuer = CertificateIssuer.fromClusterIssuerName('vault-pki');
const ca = CertificateAuthority.fromExistingSecret('fleet-ca');
const vault = { server: 'https://vault.example.com', path: 'pki/sign/event-bus', auth: VaultAuth.kubernetes({ role: 'r', serviceAccountName: 'sa' }) };

// @ts-expect-error certificates come from a factory (issuer(), selfSigned(), fleetCa(), vault())
new ClusterCertificates();

// What was four optional, mutually exclusive fields is no longer an object literal:
// @ts-expect-error two issuer sources at once
const twoSources: EventBusClusterOptions = { delivery: SecretsDelivery.existing(), certificates: { issuer, selfSigned: true } };
// @ts-expect-error even one source is written through its factory
const literal: EventBusClusterOptions = { delivery: SecretsDelivery.existing(), certificates: { ca } };

// @ts-expect-error issuer() needs the issuer
ClusterCertificates.issuer();
// @ts-expect-error fleetCa() takes a CertificateAuthority, not an issuer
ClusterCertificates.fleetCa(issuer);
// @ts-expect-error the options of a factory hold no second source
ClusterCertificates.issuer(issuer, { ca });
// @ts-expect-error nor does selfSigned() take one
ClusterCertificates.selfSigned({ vault });
// @ts-expect-error the source of a ClusterCertificates cannot change after it is made
ClusterCertificates.selfSigned().existingIssuer = issuer;

// Each source with the options every source shares.
export const ok: ClusterCertificates[] = [
  ClusterCertificates.issuer(issuer, { duration: Duration.days(30) }),
  ClusterCertificates.selfSigned(),
  ClusterCertificates.fleetCa(ca, { renewBefore: Duration.days(10) }),
  ClusterCertificates.vault(vault),
];
export { twoSources, literal };
