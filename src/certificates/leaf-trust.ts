import { EventBusError, problem, quote } from '../errors';
import { parseCertificateBundle } from './pem-bundle';
import { readRegularFile } from '../files/safe-fs';
import { validateObjectName } from '../k8s/names';

/** Where a CPC's trust for the CSC gateway's certificate comes from (library-internal: not exported from the package). */
export enum LeafTrustKind {
  /** PEM text given to the library: emitted as a ConfigMap in each CPC. */
  PEM = 'pem',
  /** A Secret that exists in the CPC's namespace. */
  SECRET = 'secret',
  /** A ConfigMap that exists in the CPC's namespace. */
  CONFIG_MAP = 'configMap',
  /** The system roots of the NATS container (a publicly trusted CSC certificate). */
  PUBLIC_ROOTS = 'publicRoots',
}

/** Options of {@link LeafTrust.fromPem} and {@link LeafTrust.fromPemFile}. */
export interface LeafTrustPemOptions {
  /**
   * Name of the ConfigMap created in each CPC (key `ca.crt`).
   * @default "nats-csc-gateway-ca"
   */
  readonly configMapName?: string;
}

/** Default name of the ConfigMap {@link LeafTrust.fromPem} creates. */
export const DEFAULT_TRUST_CONFIG_MAP = 'nats-csc-gateway-ca';
/** Where the nats subchart mounts `tlsCA` by default (its values.yaml), and the key it reads. */
export const TLS_CA_DIR = '/etc/nats-ca-cert';
const DEFAULT_KEY = 'ca.crt';

function validateKey(key: string, where: string): void {
  // A key of a Secret or ConfigMap, used as a file name under the mount directory.
  if (typeof key !== 'string' || !/^[-._a-zA-Z0-9]+$/.test(key) || key === '.' || key === '..' || key.length > 253) {
    throw problem({ where, problem: `key ${quote(key)} is invalid`, allowed: 'letters, digits, "-", "_" and "." (a Secret/ConfigMap key, at most 253 characters)', fix: 'use the key that holds the CA certificate, e.g. "ca.crt"' });
  }
}

/**
 * Where a CPC's NATS server gets the CA it trusts for the CSC gateway's
 * certificate, when the CPC's leaf remote goes through the CSC's
 * TLS-terminating `nats-leafnode` listener (`tls://` endpoint).
 *
 * The CA is mounted into the CPC's NATS pods through the nats subchart's
 * `tlsCA` values and named in `global.eventBus.cpcLeafClientTLS.ca_file`
 * (except with {@link publicRoots}). Only CA certificates reach a CPC, never a
 * private key.
 */
export class LeafTrust {
  /**
   * PEM CA certificate(s), e.g. the fleet CA's `ca.crt`: emitted as a
   * ConfigMap (key `ca.crt`) in each CPC, like the other objects. CA
   * certificates are public, so this is allowed with every delivery.
   * Checked now: certificates only, each one parses.
   */
  public static fromPem(pemBundle: string, options: LeafTrustPemOptions = {}): LeafTrust {
    const where = 'LeafTrust.fromPem';
    parseCertificateBundle(pemBundle, where, 'pemBundle');
    const name = options.configMapName ?? DEFAULT_TRUST_CONFIG_MAP;
    validateObjectName(name, where, 'configMapName');
    const text = pemBundle.endsWith('\n') ? pemBundle : `${pemBundle}\n`;
    return new LeafTrust(LeafTrustKind.PEM, { configMapName: name, key: DEFAULT_KEY, pem: text });
  }

  /** A PEM file of CA certificate(s), read now; same as {@link fromPem} on its text. */
  public static fromPemFile(file: string, options: LeafTrustPemOptions = {}): LeafTrust {
    const where = 'LeafTrust.fromPemFile';
    let text: string | undefined;
    // Regular file only, opened non-blocking, at most 1 MiB (src/files/safe-fs.ts).
    try {
      text = readRegularFile(file, 'check the path of the CA certificate file', { followNamed: true, what: 'a PEM bundle' });
    } catch (e) {
      if (e instanceof EventBusError) throw e;
      throw problem({ where, problem: `file ${quote(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix: 'check the path of the CA certificate file' });
    }
    if (text === undefined) throw problem({ where, problem: `file ${quote(file)} cannot be read (ENOENT)`, fix: 'check the path of the CA certificate file' });
    parseCertificateBundle(text, where, `file ${quote(file)}`);
    return LeafTrust.fromPem(text, options);
  }

  /**
   * A Secret that exists in each CPC's namespace (e.g. made by
   * trust-manager, External Secrets or `kubectl`).
   * @param secretName the Secret's name
   * @param key the key holding the CA certificate(s); default `ca.crt`
   */
  public static fromExistingSecret(secretName: string, key?: string): LeafTrust {
    const where = 'LeafTrust.fromExistingSecret';
    validateObjectName(secretName, where, 'Secret name');
    validateKey(key ?? DEFAULT_KEY, where);
    return new LeafTrust(LeafTrustKind.SECRET, { secretName, key: key ?? DEFAULT_KEY });
  }

  /**
   * A ConfigMap that exists in each CPC's namespace (e.g. a trust-manager
   * Bundle's target).
   * @param configMapName the ConfigMap's name
   * @param key the key holding the CA certificate(s); default `ca.crt`
   */
  public static fromExistingConfigMap(configMapName: string, key?: string): LeafTrust {
    const where = 'LeafTrust.fromExistingConfigMap';
    validateObjectName(configMapName, where, 'ConfigMap name');
    validateKey(key ?? DEFAULT_KEY, where);
    return new LeafTrust(LeafTrustKind.CONFIG_MAP, { configMapName, key: key ?? DEFAULT_KEY });
  }

  /**
   * The NATS container's system roots: for a CSC gateway certificate from a
   * publicly trusted CA. Only `handshake_first` is emitted; nothing is mounted.
   */
  public static publicRoots(): LeafTrust {
    return new LeafTrust(LeafTrustKind.PUBLIC_ROOTS, {});
  }

  /** Where the trust comes from: `pem`, `secret`, `configMap` or `publicRoots`. */
  public readonly kind: string;
  /** The Secret mounted (kind SECRET). */
  public readonly secretName?: string;
  /** The ConfigMap mounted (kinds PEM and CONFIG_MAP). */
  public readonly configMapName?: string;
  /** The key holding the CA certificate(s) (all kinds except PUBLIC_ROOTS). */
  public readonly key?: string;
  /** The PEM bundle (kind PEM). */
  public readonly pem?: string;

  private constructor(kind: LeafTrustKind, f: { secretName?: string; configMapName?: string; key?: string; pem?: string }) {
    this.kind = kind;
    this.secretName = f.secretName;
    this.configMapName = f.configMapName;
    this.key = f.key;
    this.pem = f.pem;
  }

  /**
   * `global.eventBus.cpcLeafClientTLS` and the nats subchart's `tlsCA` for
   * this trust: `ca_file` is exactly the mounted file.
   * @internal
   */
  public _values(): { cpcLeafClientTLS: Record<string, unknown>; tlsCA?: Record<string, unknown> } {
    if (this.kind === LeafTrustKind.PUBLIC_ROOTS) return { cpcLeafClientTLS: { handshake_first: true } };
    return {
      cpcLeafClientTLS: { handshake_first: true, ca_file: `${TLS_CA_DIR}/${this.key}` },
      tlsCA: {
        enabled: true,
        ...(this.secretName ? { secretName: this.secretName } : { configMapName: this.configMapName }),
        dir: TLS_CA_DIR,
        key: this.key,
      },
    };
  }
}
