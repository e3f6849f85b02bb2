import * as crypto from 'crypto';
import * as path from 'path';
import type { ITlsSecretSource } from './tls-secret';
import { EventBusError, problem, quote } from '../errors';
import { readRegularBytes } from '../files/safe-fs';

/** Where the `nats-mtls-server-tls` Secret comes from (library-internal: not exported from the package). */
export enum MtlsServerTlsKind {
  /** A TLS Secret source such as a cert-manager `ServerCertificate`: nothing is emitted for it. */
  TLS_SECRET_SOURCE = 'tlsSecretSource',
  /** PEM text given to the construct: emitted as an inline Secret (evaluation only). */
  PEM = 'pem',
  /** The delivery strategy of the other Secrets (remote path `<prefix>/<cluster>/nats-mtls-server-tls`). */
  DELIVERY = 'delivery',
}

/** PEM text of the mTLS server certificate. */
export interface MtlsServerTlsPem {
  /** CA certificate(s) the server trusts for client certificates and presents as its chain root (`ca.crt`). */
  readonly caCrt: string;
  /** Server certificate, optionally followed by intermediates (`tls.crt`). */
  readonly tlsCrt: string;
  /** The server certificate's private key, unencrypted PKCS#8 or PKCS#1/SEC1 PEM (`tls.key`). */
  readonly tlsKey: string;
}

/** Paths of PEM files of the mTLS server certificate. */
export interface MtlsServerTlsPemFiles {
  /** File for `ca.crt`. */
  readonly caFile: string;
  /** File for `tls.crt`. */
  readonly certFile: string;
  /** File for `tls.key`. */
  readonly keyFile: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(pem: string, where: string, what: string): crypto.X509Certificate[] {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw problem({ where, problem: `${what} holds no PEM certificate`, allowed: 'one or more "-----BEGIN CERTIFICATE-----" blocks', fix: `pass the PEM-encoded ${what}` });
  }
  return blocks.map((b, i) => {
    try {
      return new crypto.X509Certificate(b);
    } catch (e) {
      throw problem({ where, problem: `${what}: certificate ${i + 1} cannot be parsed (${(e as Error).message})`, fix: 'pass a valid PEM certificate' });
    }
  });
}

/** Checks the PEM set (parses, key matches certificate, chain ends at the CA); never echoes the key. */
function checkPem(pem: MtlsServerTlsPem, where: string, names: { ca: string; crt: string; key: string }): void {
  const cas = certificates(pem.caCrt, where, names.ca);
  const chain = certificates(pem.tlsCrt, where, names.crt);
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(pem.tlsKey);
  } catch {
    throw problem({ where, problem: `${names.key} is not an unencrypted PEM private key`, allowed: 'PKCS#8 ("BEGIN PRIVATE KEY") or PKCS#1/SEC1 ("BEGIN RSA/EC PRIVATE KEY") without a passphrase', fix: 'export the key without encryption, e.g. `openssl pkey -in key.pem -out tls.key`' });
  }
  if (!chain[0].checkPrivateKey(key)) {
    throw problem({ where, problem: `${names.key} is not the private key of the certificate in ${names.crt} (${chain[0].subject.replace(/\n/g, ', ')})`, fix: 'pass the key and certificate of the same key pair' });
  }
  const top = chain[chain.length - 1];
  const anchored = cas.some((ca) => top.checkIssued(ca) && top.verify(ca.publicKey)) || cas.some((ca) => ca.fingerprint256 === top.fingerprint256);
  if (!anchored) {
    throw problem({
      where,
      problem: `${names.crt} (issuer ${top.issuer.replace(/\n/g, ', ')}) is not signed by any certificate in ${names.ca}`,
      fix: `put the CA that issued the server certificate into ${names.ca} (mTLS clients verify the server with it)`,
    });
  }
}

/**
 * Where the mTLS NATS server's certificate Secret (`nats-mtls-server-tls`,
 * keys `ca.crt`, `tls.crt`, `tls.key`) comes from. Only read when mTLS is
 * enabled.
 */
export class MtlsServerTls {
  /**
   * A TLS Secret made by something else, typically a cert-manager
   * `ServerCertificate`. Nothing is emitted for it; its Secret name must equal
   * the `nats-mtls-server-tls` name the chart is given (after overrides).
   */
  public static fromTlsSecretSource(source: ITlsSecretSource): MtlsServerTls {
    if (!source || typeof source.tlsSecretName !== 'string') {
      throw problem({ where: 'MtlsServerTls.fromTlsSecretSource', problem: 'source has no tlsSecretName', fix: 'pass a ServerCertificate or another ITlsSecretSource' });
    }
    return new MtlsServerTls(MtlsServerTlsKind.TLS_SECRET_SOURCE, source);
  }

  /**
   * PEM text, emitted as an inline Secret. Evaluation only: the manifest then
   * holds the TLS private key, so this needs `SecretsDelivery.inline()`.
   * Checked now: the key matches the certificate, and the CA signed it.
   */
  public static fromPem(pem: MtlsServerTlsPem): MtlsServerTls {
    const where = 'MtlsServerTls.fromPem';
    for (const k of ['caCrt', 'tlsCrt', 'tlsKey'] as const) {
      if (typeof pem?.[k] !== 'string') throw problem({ where, problem: `${k} is missing`, fix: `pass the PEM text as ${k}` });
    }
    checkPem(pem, where, { ca: 'caCrt', crt: 'tlsCrt', key: 'tlsKey' });
    return new MtlsServerTls(MtlsServerTlsKind.PEM, undefined, {
      'ca.crt': Buffer.from(pem.caCrt, 'utf8'), 'tls.crt': Buffer.from(pem.tlsCrt, 'utf8'), 'tls.key': Buffer.from(pem.tlsKey, 'utf8'),
    });
  }

  /**
   * PEM files, read now and emitted byte-for-byte as an inline Secret.
   * Evaluation only (needs `SecretsDelivery.inline()`); checked like {@link fromPem}.
   */
  public static fromPemFiles(files: MtlsServerTlsPemFiles): MtlsServerTls {
    const where = 'MtlsServerTls.fromPemFiles';
    const read = (prop: 'caFile' | 'certFile' | 'keyFile'): Buffer => {
      const file = files?.[prop];
      if (typeof file !== 'string') throw problem({ where, problem: `${prop} is missing`, fix: `pass the path of the PEM file as ${prop}` });
      // Regular file only, opened non-blocking, at most 1 MiB; the private key never through a symbolic link (src/files/safe-fs.ts).
      let bytes: Buffer | undefined;
      try {
        bytes = readRegularBytes(file, prop === 'keyFile' ? 'pass the real path of the key file (a private key is never read through a symbolic link)' : 'check the path',
          { followNamed: prop !== 'keyFile', what: 'a PEM file' });
      } catch (e) {
        if (e instanceof EventBusError) throw e;
        throw problem({ where, problem: `${prop} ${quote(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix: 'check the path' });
      }
      if (bytes === undefined) throw problem({ where, problem: `${prop} ${quote(file)} cannot be read (ENOENT)`, fix: 'check the path' });
      return bytes;
    };
    const ca = read('caFile');
    const crt = read('certFile');
    const key = read('keyFile');
    checkPem({ caCrt: ca.toString('utf8'), tlsCrt: crt.toString('utf8'), tlsKey: key.toString('utf8') }, where,
      { ca: `caFile ${files.caFile}`, crt: `certFile ${files.certFile}`, key: `keyFile ${files.keyFile}` });
    return new MtlsServerTls(MtlsServerTlsKind.PEM, undefined, { 'ca.crt': ca, 'tls.crt': crt, 'tls.key': key });
  }

  /**
   * A directory holding `ca.crt`, `tls.crt` and `tls.key`, such as
   * `deploy/secrets/<cluster>/certs/nats-mtls-server-tls` written by
   * `dsx-event-bus certs`. Same as {@link fromPemFiles} on those three files.
   */
  public static fromPemDirectory(directory: string): MtlsServerTls {
    if (typeof directory !== 'string' || directory.length === 0) {
      throw problem({ where: 'MtlsServerTls.fromPemDirectory', problem: 'directory is empty', fix: 'pass e.g. "deploy/secrets/csc/certs/nats-mtls-server-tls"' });
    }
    return MtlsServerTls.fromPemFiles({
      caFile: path.join(directory, 'ca.crt'), certFile: path.join(directory, 'tls.crt'), keyFile: path.join(directory, 'tls.key'),
    });
  }

  /**
   * Deliver it like the NKey Secrets: an ExternalSecret or VaultStaticSecret
   * reading `<prefix>/<cluster>/nats-mtls-server-tls` (properties `ca.crt`,
   * `tls.crt`, `tls.key`), or nothing with `existing()`. Not possible with
   * `inline()`, which has no values for it.
   */
  public static fromDelivery(): MtlsServerTls {
    return new MtlsServerTls(MtlsServerTlsKind.DELIVERY);
  }

  /** Where the Secret comes from: `tlsSecretSource`, `pem` or `delivery`. */
  public readonly kind: string;
  /** The TLS Secret source, for `fromTlsSecretSource`. */
  public readonly source?: ITlsSecretSource;
  private readonly pem?: Record<string, Buffer>;

  private constructor(kind: MtlsServerTlsKind, source?: ITlsSecretSource, pem?: Record<string, Buffer>) {
    this.kind = kind;
    this.source = source;
    this.pem = pem;
  }

  /** @internal */
  public _pemValues(): Map<string, Buffer> {
    return new Map(Object.entries(this.pem ?? {}));
  }
}
