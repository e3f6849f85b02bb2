import { Duration } from 'cdk8s';
import { CertificateAuthority } from './ca-issuer';
import { ICertificateIssuer, VaultIssuerProps } from './issuers';
import { PrivateKeyAlgorithm } from './private-key';
import { problem, quote } from '../errors';

/** Where a cluster's certificate issuer comes from (library-internal: not exported from the package). */
export enum ClusterCertificatesKind {
  /** An existing issuer. */
  ISSUER = 'issuer',
  /** A self-signed CA issuer made in each cluster. */
  SELF_SIGNED = 'selfSigned',
  /** A CA issuer in each cluster backed by one fleet CA. */
  FLEET_CA = 'fleetCa',
  /** A Vault/OpenBao PKI issuer in each cluster. */
  VAULT = 'vault',
}

/** What the certificates of every {@link ClusterCertificates} factory share. */
export interface ClusterCertificateOptions {
  /**
   * Lifetime of the certificates.
   * @default Duration.days(90)
   */
  readonly duration?: Duration;
  /**
   * Renewal before expiry.
   * @default Duration.days(30)
   */
  readonly renewBefore?: Duration;
  /**
   * Private key algorithm.
   * @default PrivateKeyAlgorithm.RSA_2048
   */
  readonly privateKey?: PrivateKeyAlgorithm;
}

/**
 * How the charts obtain the gateway's server certificate and the mTLS server
 * certificate from cert-manager: from exactly one issuer source, chosen by
 * the factory (an existing issuer, a self-signed CA per cluster, one fleet
 * CA, or a Vault/OpenBao PKI).
 */
export class ClusterCertificates {
  /**
   * An existing cert-manager issuer signs both certificates (a CA-backed
   * issuer: its CA verifies mTLS clients), e.g.
   * `CertificateIssuer.fromClusterIssuerName("vault-pki")`.
   */
  public static issuer(issuer: ICertificateIssuer, options: ClusterCertificateOptions = {}): ClusterCertificates {
    if (!issuer || typeof issuer.issuerName !== 'string' || typeof issuer.issuerKind !== 'string') {
      throw problem({
        where: 'ClusterCertificates.issuer',
        problem: `issuer is ${issuer === undefined || issuer === null ? String(issuer) : 'not a certificate issuer (no issuerName and issuerKind)'}`,
        allowed: 'an ICertificateIssuer',
        fix: 'pass CertificateIssuer.fromIssuerName(name), CertificateIssuer.fromClusterIssuerName(name), or an issuer construct',
      });
    }
    return new ClusterCertificates(ClusterCertificatesKind.ISSUER, options, { issuer });
  }

  /**
   * Bootstrap a self-signed CA issuer per cluster (evaluation). Each cluster
   * then has its own CA, made inside it, which no other cluster knows: a CPC
   * reaching the CSC through its TLS gateway needs `cscTrust`. For a fleet,
   * prefer {@link fleetCa} (one CA for every cluster).
   */
  public static selfSigned(options: ClusterCertificateOptions = {}): ClusterCertificates {
    return new ClusterCertificates(ClusterCertificatesKind.SELF_SIGNED, options, {});
  }

  /**
   * A cert-manager CA issuer in each cluster backed by this CA (one CA for
   * the whole fleet, e.g. made by `dsx-event-bus certs`). Its Secret is
   * delivered like the other Secrets (the CA key reaches the manifests only
   * with `SecretsDelivery.inline()`), and in a fleet every CPC trusts the
   * CSC gateway with the CA certificate by default.
   */
  public static fleetCa(ca: CertificateAuthority, options: ClusterCertificateOptions = {}): ClusterCertificates {
    if (!(ca instanceof CertificateAuthority)) {
      throw problem({
        where: 'ClusterCertificates.fleetCa',
        problem: `ca is ${ca === undefined || ca === null ? String(ca) : `a ${quote(typeof ca)}, not a CertificateAuthority`}`,
        allowed: 'a CertificateAuthority',
        fix: 'pass CertificateAuthority.fromPemFiles(certFile, keyFile), CertificateAuthority.fromPem(...) or CertificateAuthority.fromExistingSecret(...)',
      });
    }
    return new ClusterCertificates(ClusterCertificatesKind.FLEET_CA, options, { ca });
  }

  /**
   * A cert-manager Vault/OpenBao PKI issuer in each cluster with these
   * settings (production). The settings are checked when each cluster's
   * issuer is made, with the prop path `certificates.vault.<field>`.
   */
  public static vault(props: VaultIssuerProps, options: ClusterCertificateOptions = {}): ClusterCertificates {
    if (!props || typeof props !== 'object') {
      throw problem({ where: 'ClusterCertificates.vault', problem: `props is ${String(props)}`, allowed: 'VaultIssuerProps (server, path, auth)', fix: 'pass the Vault/OpenBao PKI settings' });
    }
    return new ClusterCertificates(ClusterCertificatesKind.VAULT, options, { vault: props });
  }

  /** Where the issuer comes from: `issuer`, `selfSigned`, `fleetCa` or `vault` (the factory's name). */
  public readonly kind: string;
  /** The existing issuer (kind `issuer`). */
  public readonly existingIssuer?: ICertificateIssuer;
  /** The fleet CA (kind `fleetCa`). */
  public readonly ca?: CertificateAuthority;
  /** The Vault/OpenBao PKI settings (kind `vault`). */
  public readonly vaultIssuerProps?: VaultIssuerProps;
  /** Lifetime of the certificates (undefined: 90 days). */
  public readonly duration?: Duration;
  /** Renewal before expiry (undefined: 30 days). */
  public readonly renewBefore?: Duration;
  /** Private key algorithm (undefined: RSA 2048). */
  public readonly privateKey?: PrivateKeyAlgorithm;

  private constructor(
    kind: ClusterCertificatesKind,
    options: ClusterCertificateOptions,
    source: { readonly issuer?: ICertificateIssuer; readonly ca?: CertificateAuthority; readonly vault?: VaultIssuerProps },
  ) {
    this.kind = kind;
    this.existingIssuer = source.issuer;
    this.ca = source.ca;
    this.vaultIssuerProps = source.vault;
    this.duration = options.duration;
    this.renewBefore = options.renewBefore;
    this.privateKey = options.privateKey;
  }

  /**
   * The same certificates from another CA (a cluster's intermediate of the
   * fleet CA), with the same options.
   * @internal
   */
  public _withCa(ca: CertificateAuthority): ClusterCertificates {
    return new ClusterCertificates(ClusterCertificatesKind.FLEET_CA, this, { ca });
  }
}
