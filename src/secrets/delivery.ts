import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { EventBusCluster } from './cluster';
import { DEFAULT_REMOTE_PREFIX, remotePath } from './inventory';
import {
  parseSealingCertificate, previousSealedSecrets, SCOPE_ANNOTATIONS, SEALED_DIGEST_ANNOTATION, sealedDigest,
  SealingCertificate, sealingLabel, SealingScope, sealValue,
} from './sealed';
import { validateObjectName, validateRemotePath } from './validate';
import { problem, quote } from '../errors';
import type * as eso from '../imports/eso-externalsecrets-external-secrets.io';
import type * as ss from '../imports/ss-sealedsecrets-bitnami.com';
import type * as vso from '../imports/vso-vaultstaticsecrets-secrets.hashicorp.com';
import { validateGoDurationBound } from '../k8s/names';
import { standardLabels } from '../labels';

/** How the Secrets reach the cluster (library-internal: not exported from the package). */
export enum SecretsDeliveryKind {
  /** Kubernetes Secret objects with the values in the manifest. */
  INLINE = 'inline',
  /** external-secrets.io `ExternalSecret` objects. */
  EXTERNAL_SECRETS = 'externalSecrets',
  /** Vault Secrets Operator `VaultStaticSecret` objects. */
  VAULT_STATIC_SECRETS = 'vaultStaticSecrets',
  /** bitnami-labs sealed-secrets `SealedSecret` objects, sealed for each cluster's controller. */
  SEALED_SECRETS = 'sealedSecrets',
  /** Nothing: the Secrets are provisioned by something else. */
  EXISTING = 'existing',
}

/** Kind of the external-secrets store an `ExternalSecret` reads from. */
export enum SecretStoreKind {
  /** A namespaced `SecretStore` (in the namespace of the ExternalSecret). */
  SECRET_STORE = 'SecretStore',
  /** A cluster-wide `ClusterSecretStore`. */
  CLUSTER_SECRET_STORE = 'ClusterSecretStore',
}

/** What the strategies that read a remote store share: the layout of the remote keys. */
export interface RemoteSecretsOptions {
  /**
   * First part of every remote key (ExternalSecrets) or path inside the
   * Vault mount (VaultStaticSecrets): `<prefix>/<cluster>/<secret-name>`.
   * Must match `dsx-event-bus export --prefix`.
   * @default "dsx-event-bus"
   */
  readonly prefix?: string;
}

/** Options of {@link SecretsDelivery.externalSecrets}. */
export interface ExternalSecretsDeliveryOptions extends RemoteSecretsOptions {
  /** Name of the SecretStore or ClusterSecretStore to read from. */
  readonly storeName: string;

  /**
   * Kind of that store.
   * @default SecretStoreKind.SECRET_STORE
   */
  readonly storeKind?: SecretStoreKind;

  /**
   * How often the operator reads the remote values again (whole seconds; 0 = once).
   * @default - the operator's default (1h)
   */
  readonly refreshInterval?: Duration;
}

/** Options of {@link SecretsDelivery.vaultStaticSecrets}. */
export interface VaultStaticSecretsDeliveryOptions extends RemoteSecretsOptions {
  /**
   * The KV version 2 secrets-engine mount in Vault.
   * @default "secret"
   */
  readonly mount?: string;

  /**
   * The `VaultAuth` to use, optionally `<namespace>/<name>`.
   * @default - the operator's default VaultAuth
   */
  readonly vaultAuthRef?: string;

  /**
   * Vault (Enterprise / OpenBao) namespace of the mount.
   * @default - the namespace of the VaultAuth
   */
  readonly vaultNamespace?: string;

  /**
   * How often the operator reads the values again (whole seconds).
   * @default - no periodic refresh (the operator's default)
   */
  readonly refreshAfter?: Duration;
}

/**
 * The opt-in of the deliveries that carry key values (inline, sealedSecrets)
 * for a test key store.
 */
export interface TestKeysOptions {
  /**
   * Accept a key store whose seeds anyone can derive (`IKeyStore.testOnly`,
   * e.g. `DeterministicKeyStore`): the objects then carry its seeds. For
   * tests and snapshot tests only; without it such a store is refused.
   * @default false
   */
  readonly allowTestKeys?: boolean;
}

/** Options of {@link SecretsDelivery.inline}. */
export interface InlineDeliveryOptions extends TestKeysOptions {}

/** Options of {@link SecretsDelivery.sealedSecrets}. */
export interface SealedSecretsDeliveryOptions extends TestKeysOptions {
  /**
   * The public certificate of each cluster's sealed-secrets controller (PEM,
   * as `kubeseal --fetch-cert` writes it), by cluster folder: `csc`,
   * `cpc-<id>` (the names of the output folders and of the key store's
   * folders). Each cluster runs its own controller with its own key, so
   * every cluster this delivery is used for needs its own entry.
   */
  readonly certificates: { [cluster: string]: string };

  /**
   * Where the SealedSecrets may be unsealed: bound to their namespace and
   * name (strict), to their namespace, or anywhere in the cluster.
   * @default SealingScope.STRICT
   */
  readonly scope?: SealingScope;
}

/** The key inline Secrets are annotated with, so a reviewer sees the manifest holds key material. */
const KEY_MATERIAL_ANNOTATION = 'cdk8s-dsx-event-bus/inline-key-material';

/**
 * One Secret as a delivery strategy sees it: final name and keys, the remote
 * key layout, and (inline only) the values.
 * @internal
 */
export interface DeliveredSecret {
  readonly id: string;
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly immutable: boolean;
  readonly cluster: EventBusCluster;
  readonly defaultName: string;
  /** Default (remote property) key → final Secret key, in §3 order. */
  readonly keys: ReadonlyArray<{ readonly defaultKey: string; readonly key: string }>;
  /** What the values are, for the inline annotation. */
  readonly material: 'seeds' | 'public-keys' | 'tls-private-key';
  /** Inline only: values by default key. Called once, at synthesis (never in a constructor). */
  readonly values?: () => Map<string, Buffer>;
}

interface SealingOptions {
  readonly certificates: ReadonlyMap<string, SealingCertificate>;
  readonly scope: SealingScope;
}

interface RemoteOptions {
  readonly prefix: string;
  readonly eso?: { storeName: string; storeKind: SecretStoreKind; refreshInterval?: string };
  readonly vso?: { mount: string; vaultAuthRef?: string; vaultNamespace?: string; refreshAfter?: string };
}

function nonEmpty(map: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(map).length ? map : undefined;
}

function durationText(d: Duration | undefined, where: string, what: string): string | undefined {
  if (d === undefined) return undefined;
  const seconds = d.toMilliseconds() / 1000;
  validateGoDurationBound(seconds, where, what);
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw problem({ where, problem: `${what} of ${seconds}s is not a whole number of seconds`, allowed: 'Duration.seconds(n), Duration.minutes(n) or Duration.hours(n) with n >= 0', fix: 'round it to whole seconds' });
  }
  return `${seconds}s`;
}

/**
 * How `EventBusSecrets` delivers its Secrets. Only `inline()` puts key
 * material into manifests; every other strategy emits references (or nothing)
 * and no seed appears anywhere in the output.
 *
 * Remote layout (external-secrets and Vault): one remote secret per Kubernetes
 * Secret at `<prefix>/<cluster>/<secret-name>` (`<cluster>` = `csc` or
 * `cpc-<id>`, `<secret-name>` the upstream name even when overridden), with one
 * property per Secret key (`pubkey`, `seed`, `nack-user.nk`, …, upstream key
 * names). `dsx-event-bus export` writes exactly this layout.
 */
export class SecretsDelivery {
  /**
   * Kubernetes `Secret` objects holding the values. For evaluation: the
   * manifests then contain NKey seeds (and the TLS private key). Every such
   * Secret carries the annotation `cdk8s-dsx-event-bus/inline-key-material`.
   * A test key store (`DeterministicKeyStore`) is refused unless
   * `allowTestKeys` is set.
   */
  public static inline(options: InlineDeliveryOptions = {}): SecretsDelivery {
    return new SecretsDelivery(SecretsDeliveryKind.INLINE, undefined, undefined, options.allowTestKeys === true);
  }

  /** One external-secrets.io/v1 `ExternalSecret` per Secret, reading the remote layout from a (Cluster)SecretStore. */
  public static externalSecrets(options: ExternalSecretsDeliveryOptions): SecretsDelivery {
    const where = 'SecretsDelivery.externalSecrets';
    if (!options || options.storeName === undefined) {
      throw problem({ where, problem: 'storeName is missing', fix: 'pass the name of the SecretStore or ClusterSecretStore, e.g. { storeName: "vault" }' });
    }
    validateObjectName(options.storeName, where, 'storeName');
    const storeKind = options.storeKind ?? SecretStoreKind.SECRET_STORE;
    if (!Object.values(SecretStoreKind).includes(storeKind)) {
      throw problem({ where, problem: `storeKind ${quote(storeKind)} is unknown`, allowed: Object.values(SecretStoreKind).join(', ') });
    }
    const prefix = options.prefix ?? DEFAULT_REMOTE_PREFIX;
    validateRemotePath(prefix, where, 'prefix');
    return new SecretsDelivery(SecretsDeliveryKind.EXTERNAL_SECRETS, {
      prefix,
      eso: { storeName: options.storeName, storeKind, refreshInterval: durationText(options.refreshInterval, where, 'refreshInterval') },
    });
  }

  /**
   * One Vault Secrets Operator `VaultStaticSecret` (kv-v2) per Secret. The
   * operator creates the destination Secret with exactly the remote
   * properties (its `_raw` copy of the whole response is excluded).
   */
  public static vaultStaticSecrets(options: VaultStaticSecretsDeliveryOptions = {}): SecretsDelivery {
    const where = 'SecretsDelivery.vaultStaticSecrets';
    const mount = options.mount ?? 'secret';
    validateRemotePath(mount, where, 'mount');
    const prefix = options.prefix ?? DEFAULT_REMOTE_PREFIX;
    validateRemotePath(prefix, where, 'prefix');
    if (options.vaultAuthRef !== undefined) {
      const parts = options.vaultAuthRef.split('/');
      if (parts.length > 2) {
        throw problem({ where, problem: `vaultAuthRef ${quote(options.vaultAuthRef)} has more than one "/"`, allowed: '"<name>" or "<namespace>/<name>"' });
      }
      parts.forEach((p) => validateObjectName(p, where, 'vaultAuthRef part'));
    }
    if (options.vaultNamespace !== undefined) validateRemotePath(options.vaultNamespace, where, 'vaultNamespace');
    return new SecretsDelivery(SecretsDeliveryKind.VAULT_STATIC_SECRETS, {
      prefix,
      vso: { mount, vaultAuthRef: options.vaultAuthRef, vaultNamespace: options.vaultNamespace, refreshAfter: durationText(options.refreshAfter, where, 'refreshAfter') },
    });
  }

  /**
   * One bitnami-labs sealed-secrets `SealedSecret` per Secret, each value
   * sealed for the cluster's own controller (RSA-OAEP/SHA-256 of a one-time
   * AES-256-GCM key, as `kubeseal` seals), so the whole fleet can be
   * committed to git without a secrets backend: a SealedSecret holds no
   * plaintext, and only the controller of its cluster can unseal it. Needs
   * the key values (`keys`), like `inline()`.
   *
   * The ciphertext stays the same while a Secret's values and its cluster's
   * certificate are unchanged, when the earlier output is known:
   * `EventBusApp.synth()`, `EventBusFleet.synth(outdir)` and
   * `dsx-event-bus synth -o` keep each SealedSecret of the output folder
   * whose digest annotation (`cdk8s-dsx-event-bus/sealed-digest`) still
   * matches.
   */
  public static sealedSecrets(options: SealedSecretsDeliveryOptions): SecretsDelivery {
    const where = 'SecretsDelivery.sealedSecrets';
    const given = options?.certificates;
    if (!given || typeof given !== 'object' || Object.keys(given).length === 0) {
      throw problem({
        where,
        problem: 'certificates is missing or empty',
        fix: 'pass each cluster\'s controller certificate by cluster folder, e.g. { certificates: { csc: cscPem, "cpc-1": cpc1Pem } } (kubeseal --fetch-cert writes it)',
      });
    }
    const certificates = new Map<string, SealingCertificate>();
    for (const [cluster, pem] of Object.entries(given)) {
      validateClusterFolder(cluster, where);
      certificates.set(cluster, parseSealingCertificate(pem, where, `the certificate of ${cluster}`));
    }
    const scope = options.scope ?? SealingScope.STRICT;
    if (!Object.values(SealingScope).includes(scope)) {
      throw problem({ where, problem: `scope ${quote(scope)} is unknown`, allowed: Object.values(SealingScope).join(', ') });
    }
    return new SecretsDelivery(SecretsDeliveryKind.SEALED_SECRETS, undefined, { certificates, scope }, options.allowTestKeys === true);
  }

  /**
   * Emit nothing: the Secrets are provisioned elsewhere (e.g. `kubectl create
   * secret` from the export, a Vault Agent). Their names and
   * keys still flow into the Helm values.
   */
  public static existing(): SecretsDelivery {
    return new SecretsDelivery(SecretsDeliveryKind.EXISTING);
  }

  /** Which strategy this is: `inline`, `externalSecrets`, `vaultStaticSecrets`, `sealedSecrets` or `existing`. */
  public readonly kind: string;
  /** The remote-path prefix (external-secrets and Vault only). */
  public readonly prefix?: string;
  /** The sealing scope (sealedSecrets only). */
  public readonly scope?: SealingScope;
  /** Whether a test key store is accepted (inline and sealedSecrets; see `TestKeysOptions`). */
  public readonly allowTestKeys: boolean;
  private readonly remote?: RemoteOptions;
  private readonly sealing?: SealingOptions;

  private constructor(kind: SecretsDeliveryKind, remote?: RemoteOptions, sealing?: SealingOptions, allowTestKeys = false) {
    this.kind = kind;
    this.allowTestKeys = allowTestKeys;
    this.remote = remote;
    this.prefix = remote?.prefix;
    this.sealing = sealing;
    this.scope = sealing?.scope;
  }

  /**
   * Whether the strategy needs the key values at synthesis (inline and
   * sealedSecrets): their objects carry the values, in clear or sealed.
   * @internal
   */
  public get _needsValues(): boolean {
    return this.kind === SecretsDeliveryKind.INLINE || this.kind === SecretsDeliveryKind.SEALED_SECRETS;
  }

  /**
   * The cluster folders this strategy has a sealing certificate for (empty
   * for the other strategies).
   * @internal
   */
  public get _sealedClusters(): string[] {
    return [...(this.sealing?.certificates.keys() ?? [])];
  }

  /**
   * Checks, where a cluster and this strategy meet, that the strategy can
   * deliver that cluster's Secrets into `namespace`. `where` names the caller.
   * @internal
   */
  public _checkCluster(cluster: EventBusCluster, namespace: string | undefined, where: string): void {
    if (!this.sealing) return;
    if (!this.sealing.certificates.has(cluster.directory)) {
      throw problem({
        where,
        problem: `sealedSecrets delivery has no certificate for ${cluster.directory} (it has ${this._sealedClusters.join(', ')})`,
        allowed: 'one certificate per cluster: each cluster\'s sealed-secrets controller unseals with its own key',
        fix: `give the sealedSecrets delivery a certificate for ${cluster.directory} (the PEM that kubeseal --fetch-cert prints against that cluster): certificates[${quote(cluster.directory)}]`,
      });
    }
    if (namespace === undefined && this.sealing.scope !== SealingScope.CLUSTER_WIDE) {
      throw problem({
        where,
        problem: `sealing with scope ${this.sealing.scope} binds each value to its namespace, but no namespace is set`,
        fix: 'set namespace (the chart\'s release namespace), or use scope: SealingScope.CLUSTER_WIDE',
      });
    }
  }

  /**
   * The remote path of a Secret, `<prefix>/<cluster>/<secret-name>`, for the
   * strategies that read a remote store.
   * @param cluster the cluster whose Secret it is
   * @param defaultSecretName the upstream Secret name, e.g. `nats-auth-signing`
   */
  public remotePath(cluster: EventBusCluster, defaultSecretName: string): string {
    if (!this.remote) {
      throw problem({ where: `SecretsDelivery.${this.kind}`, problem: 'this strategy reads no remote store, so it has no remote paths', fix: 'use externalSecrets() or vaultStaticSecrets()' });
    }
    return remotePath(this.remote.prefix, cluster.directory, defaultSecretName);
  }

  /**
   * Emits the object(s) of one Secret into `scope`; returns them.
   * @internal
   */
  public _emit(scope: Construct, given: DeliveredSecret): ApiObject[] {
    // Every object, and every Secret an operator creates, carries the standard labels under the caller's.
    const secret: DeliveredSecret = { ...given, labels: { ...standardLabels('secrets'), ...given.labels } };
    switch (this.kind) {
      case SecretsDeliveryKind.INLINE: return [this.emitInline(scope, secret)];
      case SecretsDeliveryKind.EXTERNAL_SECRETS: return [this.emitExternalSecret(scope, secret)];
      case SecretsDeliveryKind.VAULT_STATIC_SECRETS: return [this.emitVaultStaticSecret(scope, secret)];
      case SecretsDeliveryKind.SEALED_SECRETS: return [this.emitSealedSecret(scope, secret)];
      default: return [];
    }
  }

  private emitInline(scope: Construct, s: DeliveredSecret): ApiObject {
    let data: Record<string, string> | undefined;
    const produce = () => {
      if (data) return data;
      const values = s.values!();
      data = {};
      for (const k of s.keys) data[k.key] = values.get(k.defaultKey)!.toString('base64');
      return data;
    };
    return new ApiObject(scope, s.id, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: s.name,
        namespace: s.namespace,
        labels: s.labels,
        annotations: { ...s.annotations, [KEY_MATERIAL_ANNOTATION]: s.material },
      },
      type: 'Opaque',
      ...(s.immutable ? { immutable: true } : {}),
      data: Lazy.any({ produce }),
    });
  }

  private emitSealedSecret(scope: Construct, s: DeliveredSecret): ApiObject {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m: typeof ss = require('../imports/ss-sealedsecrets-bitnami.com');
    const o = this.sealing!;
    const cluster = s.cluster.directory;
    const cert = o.certificates.get(cluster);
    if (!cert || !s.values) {
      throw problem({ where: scope.node.path, problem: `the Secret ${s.name} of ${cluster} cannot be sealed (${cert ? 'no values' : 'no certificate'})`, fix: 'report this: the constructs check both before they emit' });
    }
    const namespace = s.namespace ?? '';
    const label = sealingLabel(o.scope, namespace, s.name);
    const scopeAnnotations = SCOPE_ANNOTATIONS[o.scope];
    // Read and sealed once, at synthesis; an earlier output's ciphertext is
    // kept while its digest (values, keys, label, certificate) still matches.
    let sealed: { digest: string; encryptedData: Record<string, string> } | undefined;
    const produce = () => {
      if (!sealed) {
        const values = s.values!();
        const entries = s.keys.map((k): [string, Buffer] => [k.key, values.get(k.defaultKey)!]);
        const digest = sealedDigest(cert, label, entries);
        const previous = previousSealedSecrets(scope)?.(cluster, namespace, s.name);
        const keep = previous?.digest === digest && sameKeys(previous.encryptedData, entries);
        sealed = {
          digest,
          encryptedData: keep ? { ...previous!.encryptedData } : Object.fromEntries(entries.map(([k, v]) => [k, sealValue(cert, v, label)])),
        };
      }
      return sealed;
    };
    const metadata = { name: s.name, namespace: s.namespace, labels: s.labels, annotations: { ...s.annotations, ...scopeAnnotations } };
    return new m.SealedSecret(scope, s.id, {
      metadata: {
        ...metadata,
        // (cdk8s copies the annotations map, so the lazy value is one entry of it.)
        annotations: { ...metadata.annotations, [SEALED_DIGEST_ANNOTATION]: Lazy.any({ produce: () => produce().digest }) as any },
      },
      spec: {
        encryptedData: Lazy.any({ produce: () => produce().encryptedData }) as any,
        template: {
          // The controller creates the Secret from this template: the same
          // metadata, type and immutability an inline Secret would have.
          metadata,
          type: 'Opaque',
          immutable: s.immutable ? true : undefined,
        },
      },
    });
  }

  private emitExternalSecret(scope: Construct, s: DeliveredSecret): ApiObject {
    // Generated bindings load on first use: they are large and most apps need one strategy.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m: typeof eso = require('../imports/eso-externalsecrets-external-secrets.io');
    const o = this.remote!.eso!;
    const key = this.remotePath(s.cluster, s.defaultName);
    const hasMetadata = Object.keys(s.labels).length > 0 || Object.keys(s.annotations).length > 0;
    return new m.ExternalSecret(scope, s.id, {
      metadata: { name: s.name, namespace: s.namespace, labels: s.labels, annotations: s.annotations },
      spec: {
        refreshInterval: o.refreshInterval,
        secretStoreRef: { name: o.storeName, kind: o.storeKind as string as eso.ExternalSecretSpecSecretStoreRefKind },
        target: {
          name: s.name,
          creationPolicy: m.ExternalSecretSpecTargetCreationPolicy.OWNER,
          immutable: s.immutable ? true : undefined,
          // With a template, labels/annotations come from it; without data templates
          // the fetched data is used as is.
          template: hasMetadata ? { type: 'Opaque', metadata: { labels: nonEmpty(s.labels), annotations: nonEmpty(s.annotations) } } : undefined,
        },
        data: s.keys.map((k) => ({ secretKey: k.key, remoteRef: { key, property: k.defaultKey } })),
      },
    });
  }

  private emitVaultStaticSecret(scope: Construct, s: DeliveredSecret): ApiObject {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m: typeof vso = require('../imports/vso-vaultstaticsecrets-secrets.hashicorp.com');
    const o = this.remote!.vso!;
    const renamed = s.keys.filter((k) => k.key !== k.defaultKey);
    const kept = s.keys.filter((k) => k.key === k.defaultKey);
    const exact = (key: string) => `^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
    return new m.VaultStaticSecret(scope, s.id, {
      metadata: { name: s.name, namespace: s.namespace, labels: s.labels, annotations: s.annotations },
      spec: {
        type: m.VaultStaticSecretSpecType.KV_HYPHEN_V2,
        mount: o.mount,
        path: this.remotePath(s.cluster, s.defaultName),
        namespace: o.vaultNamespace,
        vaultAuthRef: o.vaultAuthRef,
        refreshAfter: o.refreshAfter,
        destination: {
          name: s.name,
          create: true,
          labels: nonEmpty(s.labels),
          annotations: nonEmpty(s.annotations),
          transformation: {
            // Least privilege whatever else the remote secret holds: no `_raw`
            // (the whole KV response), only the listed keys; a renamed key is
            // rendered under its new name by a template.
            excludeRaw: true,
            includes: kept.length ? kept.map((k) => exact(k.defaultKey)) : undefined,
            excludes: kept.length ? undefined : ['.*'],
            templates: renamed.length
              ? Object.fromEntries(renamed.map((k) => [k.key, { text: `{{- get .Secrets ${JSON.stringify(k.defaultKey)} -}}` }]))
              : undefined,
          },
        },
      },
    });
  }
}

/** Whether an earlier SealedSecret has exactly the keys of this one. */
function sameKeys(data: Readonly<Record<string, string>>, entries: ReadonlyArray<readonly [string, Buffer]>): boolean {
  const keys = Object.keys(data);
  return keys.length === entries.length && entries.every(([k]) => Object.prototype.hasOwnProperty.call(data, k));
}

/** A key of `certificates`: a cluster folder, `csc` or `cpc-<id>` (a CPC id entering here is checked by EventBusCluster). */
function validateClusterFolder(cluster: string, where: string): void {
  if (EventBusCluster._ofDirectory(cluster, `${where}: certificates[${quote(cluster)}]`)) return;
  throw problem({
    where,
    problem: `certificates has the key ${quote(cluster)}, which is not a cluster folder`,
    allowed: '"csc" or "cpc-<id>" (the output folder of the cluster, e.g. "cpc-1")',
    fix: 'name each certificate by its cluster\'s folder',
  });
}
