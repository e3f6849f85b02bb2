import { ApiObject, Duration, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import type { EventBusCluster } from './cluster';
import { DEFAULT_REMOTE_PREFIX, remotePath } from './inventory';
import { validateObjectName, validateRemotePath } from './validate';
import { problem, quote } from '../errors';
import type * as eso from '../imports/eso-externalsecrets-external-secrets.io';
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
   */
  public static inline(): SecretsDelivery {
    return new SecretsDelivery(SecretsDeliveryKind.INLINE);
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
   * Emit nothing: the Secrets are provisioned elsewhere (e.g. `kubectl create
   * secret` from the export, sealed-secrets, a Vault Agent). Their names and
   * keys still flow into the Helm values.
   */
  public static existing(): SecretsDelivery {
    return new SecretsDelivery(SecretsDeliveryKind.EXISTING);
  }

  /** Which strategy this is: `inline`, `externalSecrets`, `vaultStaticSecrets` or `existing`. */
  public readonly kind: string;
  /** The remote-path prefix (external-secrets and Vault only). */
  public readonly prefix?: string;
  private readonly remote?: RemoteOptions;

  private constructor(kind: SecretsDeliveryKind, remote?: RemoteOptions) {
    this.kind = kind;
    this.remote = remote;
    this.prefix = remote?.prefix;
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
