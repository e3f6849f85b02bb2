import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { formatProblem, problem, quote } from '../errors';
import { ClusterRole, EventBusCluster } from './cluster';
import { DeliveredSecret, SecretsDelivery, SecretsDeliveryKind } from './delivery';
import {
  clusterSecretDefs, leafSecretDef, leafSecretDefs, MTLS_SERVER_TLS, readClusterSecret, readLeafPair, SecretDef,
} from './inventory';
import { KeyMaterial } from './key-material';
import { MtlsServerTls, MtlsServerTlsKind } from './mtls-server-tls';
import type { SecretReference } from './secret-ref';
import { checkTestKeys, testKeysLabels } from './test-keys';
import {
  validateAnnotations, validateLabels, validateNamespace, validateObjectName, validateSecretKey,
} from './validate';
import { NACK_NKEY_FILE, NACK_USER, SURVEYOR } from '../keys/catalogue';
import {
  CSC, cpcCluster, cpcLeafSecretName, cscLeafSecretName, describeKeyFile, validateExtraAccounts,
} from '../keys/layout';
import type { IKeyStore } from '../keys/store';

/**
 * Renames one Secret and/or its keys, like the chart's
 * `global.eventBus.nkeySecretRefOverrides`. The remote layout (external-secrets,
 * Vault, export) keeps the upstream names; only the Kubernetes Secret changes.
 */
export interface SecretOverride {
  /** The upstream (default) name of the Secret, e.g. `nats-nack-user`. */
  readonly secret: string;

  /**
   * The name of the Kubernetes Secret instead.
   * @default - the upstream name
   */
  readonly name?: string;

  /**
   * New key names by upstream key, e.g. `{ 'nack-user.nk': 'nkey' }`.
   * @default - the upstream keys
   */
  readonly keys?: { [defaultKey: string]: string };
}

/** One key of a Secret: its upstream name and its name after overrides. */
export interface SecretKeyDescription {
  /** Upstream key name (also the remote property name). */
  readonly defaultKey: string;
  /** Key name in the Kubernetes Secret. */
  readonly key: string;
}

/** One Secret the chart reads on this cluster. */
export interface SecretDescription {
  /** Upstream name (also the last part of the remote path). */
  readonly defaultName: string;
  /** Name of the Kubernetes Secret after overrides. */
  readonly name: string;
  /** Its keys, exactly those the chart reads. */
  readonly keys: SecretKeyDescription[];
  /**
   * Whether this construct emits an object for it. False with `existing()`,
   * for a TLS Secret source, and for a leaf Secret whose LeafConnection has
   * not been added yet.
   */
  readonly emitted: boolean;
}

/** Properties of {@link EventBusSecrets}. */
export interface EventBusSecretsProps {
  /** Which cluster: `EventBusCluster.csc({ cpcIds })` or `EventBusCluster.cpc(id)`. */
  readonly cluster: EventBusCluster;

  /**
   * How the Secrets reach the cluster. `SecretsDelivery.inline()` is the only
   * strategy that puts key material into the manifests.
   */
  readonly delivery: SecretsDelivery;

  /**
   * Where the NKeys come from (a `DirectoryKeyStore` over the output of
   * `dsx-event-bus nkeys`, or the `DeterministicKeyStore` for tests). The
   * constructor reads nothing: at synthesis the store is `ensure`d once for
   * every cluster of the app that uses it (so a missing key fails with the
   * command that creates it), then each key is read once.
   * @default - no key store: allowed for every strategy except `inline()`, which needs the values
   */
  readonly keys?: IKeyStore;

  /**
   * Extra NATS accounts (the chart's `extraAccounts`); each adds one leaf
   * Secret per CPC. Must be the same on the CSC and every CPC.
   * @default - none
   */
  readonly extraAccounts?: string[];

  /**
   * Whether mTLS is enabled (the chart's `mtls.enabled`). When false no
   * `nats-mtls-*` Secret is emitted.
   * @default true
   */
  readonly mtls?: boolean;

  /**
   * Where `nats-mtls-server-tls` comes from (only with mTLS).
   * @default MtlsServerTls.fromDelivery()
   */
  readonly mtlsServerTls?: MtlsServerTls;

  /**
   * Metadata of every emitted object and of the Secrets the operators
   * create: `namespace` (the chart's release namespace), `labels`
   * (`app.kubernetes.io/part-of: dsx-event-bus` is always added) and
   * `annotations`. No `name`: each Secret has the chart's name for it
   * (rename one with `secretOverrides`).
   * @default - no namespace set (the namespace `kubectl apply` uses), only the part-of label, no annotations
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * Make the Secrets immutable (inline Secrets and the targets of
   * ExternalSecrets). The Vault Secrets Operator cannot create immutable
   * Secrets, and `existing()` creates none, so both refuse it.
   * @default false
   */
  readonly immutableSecrets?: boolean;

  /**
   * Per-Secret name and key overrides; defaults are the upstream names.
   * @default - none
   */
  readonly secretOverrides?: SecretOverride[];

  /**
   * Create the leaf Secrets of this side without a partner (this side of
   * every leaf pair, checked within its own key store), for each CPC id (CSC)
   * or for this CPC. For a pipeline that synthesizes one cluster at a time.
   * When false, every leaf pair must be joined by a `LeafConnection` or
   * synthesis fails.
   * @default false
   */
  readonly createLeafConnections?: boolean;
}

interface Override {
  readonly name: string;
  readonly keys: Map<string, string>;
}

/** The `app.kubernetes.io/part-of` label of everything this library emits. */
const PART_OF = { 'app.kubernetes.io/part-of': 'dsx-event-bus' };

/**
 * Every Secret the DSX Event Bus chart reads on one cluster ([Required Secrets](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets)),
 * with exactly the keys the chart reads, delivered the chosen way.
 *
 * - Per cluster: `nats-auth-signing`, `nats-xkey`, `nats-authx-user` (pubkey
 *   only), `auth-callout-keys`, `nats-nack-user`, `nats-surveyor`, and with mTLS
 *   the three `nats-mtls-*-leaf` Secrets and `nats-mtls-server-tls`.
 * - Leaf Secrets, added by a {@link LeafConnection}: on the CSC
 *   `nats-leaf-cpc-<id>` (pubkey) and `nats-leaf-<account>-cpc-<id>`; on a CPC
 *   `nats-leaf-csc` (seed) and `nats-leaf-<account>-csc`.
 *
 * Construct ids of the children are the upstream Secret names.
 */
export class EventBusSecrets extends Construct {
  /** How they are delivered. */
  public readonly delivery: SecretsDelivery;
  /** Whether mTLS is enabled. */
  public readonly mtls: boolean;
  /** Where `nats-mtls-server-tls` comes from; undefined without mTLS. */
  public readonly mtlsServerTls?: MtlsServerTls;
  /** The key store, if one was given. */
  public readonly keys?: IKeyStore;
  /** Namespace of the emitted objects, if set. */
  public readonly namespace?: string;

  private currentCluster: EventBusCluster;
  private readonly createAlone: boolean;
  /** Final Secret name -> upstream name, to refuse two Secrets of one name. */
  private readonly finalNames = new Map<string, string>();
  private readonly accounts: readonly string[];
  private readonly accountTokens: readonly string[];
  private readonly labels: Record<string, string>;
  private readonly annotations: Record<string, string>;
  private readonly immutable: boolean;
  private readonly defs = new Map<string, SecretDef>();
  private readonly overrides = new Map<string, Override>();
  private readonly emitted = new Set<string>();
  /** CPC id -> path of what added its leaf Secrets. */
  private readonly joined = new Map<string, string>();
  /** CPC ids whose leaf Secrets this side added alone (`createLeafConnections`). */
  private readonly alone = new Set<string>();
  private readonly keyMaterial?: KeyMaterial;

  constructor(scope: Construct, id: string, props: EventBusSecretsProps) {
    super(scope, id);
    const where = this.node.path;
    if (!(props?.cluster instanceof EventBusCluster)) {
      throw problem({ where, problem: 'cluster is missing', fix: 'pass cluster: EventBusCluster.csc({ cpcIds }) or EventBusCluster.cpc(id)' });
    }
    if (!(props.delivery instanceof SecretsDelivery)) {
      throw problem({ where, problem: 'delivery is missing', fix: 'pass delivery: SecretsDelivery.externalSecrets(…), .vaultStaticSecrets(…), .sealedSecrets(…), .existing() or (for evaluation) .inline()' });
    }
    this.currentCluster = props.cluster;
    this.createAlone = props.createLeafConnections ?? false;
    this.delivery = props.delivery;
    this.keys = props.keys;
    this.mtls = props.mtls ?? true;
    this.immutable = props.immutableSecrets ?? false;
    this.accounts = Object.freeze([...(props.extraAccounts ?? [])]);
    this.accountTokens = Object.freeze(validateExtraAccounts(this.accounts, `${where}: extraAccounts`));
    const needsValues = this.delivery._needsValues;

    if (needsValues && !this.keys) {
      throw problem({
        where,
        field: 'keys',
        problem: `${this.delivery.kind} delivery needs the key values, but keys is not set`,
        fix: 'set keys to DirectoryKeyStore.open(dir) (the folder dsx-event-bus nkeys wrote), or choose a delivery that reads a remote store: SecretsDelivery.externalSecrets(…), SecretsDelivery.vaultStaticSecrets(…) or SecretsDelivery.existing()',
      });
    }
    checkTestKeys(this.keys, this.delivery, where);
    if (this.immutable && (this.delivery.kind === SecretsDeliveryKind.VAULT_STATIC_SECRETS || this.delivery.kind === SecretsDeliveryKind.EXISTING)) {
      throw problem({
        where,
        field: 'immutableSecrets',
        problem: `it is true, but delivery ${this.delivery.kind} ${this.delivery.kind === SecretsDeliveryKind.EXISTING ? 'creates no Secrets' : 'cannot create immutable Secrets (the Vault Secrets Operator has no such option)'}`,
        fix: 'remove it, or use the delivery SecretsDelivery.externalSecrets(…) or SecretsDelivery.inline()',
      });
    }
    this.mtlsServerTls = this.resolveServerTls(props.mtlsServerTls, where);

    const metadata = props.metadata ?? {};
    if (metadata.name !== undefined) {
      throw problem({
        where,
        field: 'metadata.name',
        problem: `it is ${quote(metadata.name)}, but EventBusSecrets makes many Secrets, each named as the chart expects`,
        fix: 'remove metadata.name; rename a Secret with secretOverrides ({ secret, name })',
      });
    }
    if (metadata.namespace !== undefined) validateNamespace(metadata.namespace, `${where}: metadata.namespace`);
    this.namespace = metadata.namespace;
    this.delivery._checkCluster(this.cluster, this.namespace, where);
    validateLabels(metadata.labels ?? {}, `${where}: metadata.labels`);
    validateAnnotations(metadata.annotations ?? {}, `${where}: metadata.annotations`);
    this.labels = { ...PART_OF, ...metadata.labels, ...testKeysLabels(this.keys) };
    this.annotations = { ...metadata.annotations };

    const leafDefs = this.cluster.role === ClusterRole.CSC
      ? leafSecretDefs('csc', this.cluster.cpcIds, this.accountTokens)
      : leafSecretDefs('cpc', [this.cluster.cpcId!], this.accountTokens);
    for (const d of [...clusterSecretDefs(this.mtls), ...leafDefs]) this.defs.set(d.name, d);
    this.applyOverrides(props.secretOverrides ?? [], `${where}: secretOverrides`);
    this.checkServerTlsSource(where);

    // Nothing is read here: the store is ensured and read at synthesis.
    this.keyMaterial = this.keys ? KeyMaterial.of(this, this.keys) : undefined;
    this.keyMaterial?.need({ cpcIds: this.ownCpcIds(), extraAccounts: [...this.accounts] });

    for (const d of this.defs.values()) {
      if (d.leaf) continue;
      if (d.origin === 'tls') this.emitServerTls(d);
      else this.emit(d, needsValues ? () => toBuffers(readClusterSecret(this.keyMaterial!, this.cluster.directory, d)) : undefined);
    }

    this.node.addValidation({ validate: () => this.validateKeysAndLeaves() });

    if (this.createAlone) {
      for (const cpc of this.ownCpcs()) this.addLeafSecrets(cpc);
    }
  }

  /** The cluster these Secrets are for (a CSC's `cpcIds` grow with {@link addCpc}). */
  public get cluster(): EventBusCluster {
    return this.currentCluster;
  }

  /**
   * Adds a CPC to the CSC these Secrets are for: its id joins
   * `cluster.cpcIds` and its leaf Secrets are expected (added by a
   * `LeafConnection`, or here with `createLeafConnections`).
   * @param cpc the new CPC: `EventBusCluster.cpc(id)`
   */
  public addCpc(cpc: EventBusCluster): void {
    const where = `${this.node.path}: addCpc`;
    this.currentCluster = this.cluster._withCpc(cpc, where);
    const defs = leafSecretDefs('csc', [cpc.cpcId!], this.accountTokens);
    for (const d of defs) this.defs.set(d.name, d);
    this.checkFinalNames(defs, where);
    this.keyMaterial?.need({ cpcIds: [cpc.cpcId!], extraAccounts: [...this.accounts] });
    if (this.createAlone) this.addLeafSecrets(cpc);
  }

  /** The extra accounts, in the given order. */
  public get extraAccounts(): string[] {
    return [...this.accounts];
  }

  /** The CPC ids whose leaf Secrets have been added so far (by a LeafConnection or `createLeafConnections`). */
  public get leafCpcIds(): string[] {
    return [...this.joined.keys()];
  }

  /**
   * The name of the Kubernetes Secret for an upstream Secret name, after overrides.
   * @param defaultSecretName e.g. `nats-nack-user`
   */
  public secretName(defaultSecretName: string): string {
    this.defOf(defaultSecretName, 'secretName');
    return this.overrides.get(defaultSecretName)?.name ?? defaultSecretName;
  }

  /**
   * The key in the Kubernetes Secret for an upstream (Secret, key), after overrides.
   * @param defaultSecretName e.g. `nats-nack-user`
   * @param defaultKey e.g. `nack-user.nk`
   */
  public secretKey(defaultSecretName: string, defaultKey: string): string {
    const d = this.defOf(defaultSecretName, 'secretKey');
    if (!d.keys.includes(defaultKey)) {
      throw problem({ where: `${this.node.path}: secretKey`, problem: `Secret ${defaultSecretName} has no key ${quote(defaultKey)}`, allowed: d.keys.join(', ') });
    }
    return this.overrides.get(defaultSecretName)?.keys.get(defaultKey) ?? defaultKey;
  }

  /**
   * One Secret as a workload mounts or reads it: its Kubernetes name,
   * namespace and keys, after overrides. With cdk8s-plus (27, 33, ...):
   * `kplus.Secret.fromSecretName(scope, id, ref.name)` gives the `ISecret` for
   * `Volume.fromSecret` or `EnvValue.fromSecretValue({ secret, key: ref.keys[k] })`.
   * @param defaultSecretName the upstream name, e.g. `nats-nack-user`
   */
  public secretRef(defaultSecretName: string): SecretReference {
    const d = this.defOf(defaultSecretName, 'secretRef');
    const keys = Object.fromEntries(d.keys.map((k) => [k, this.secretKey(d.name, k)]));
    return { name: this.secretName(d.name), ...(this.namespace !== undefined ? { namespace: this.namespace } : {}), keys };
  }

  /**
   * The chart's `global.eventBus.nkeySecretRefOverrides` values: for every NKey
   * (Secret, key) whose name or key was overridden,
   * `{ <default-secret>: { <default-key>: { valueFrom: { secretKeyRef: { name, key } } } } }`.
   * Empty when nothing is overridden. (`nats-mtls-server-tls` is mounted, not
   * referenced by key: use `secretName('nats-mtls-server-tls')` for it.)
   */
  public nkeySecretRefOverrides(): any {
    const out: Record<string, Record<string, unknown>> = {};
    for (const d of this.defs.values()) {
      if (d.origin !== 'store') continue;
      for (const key of d.keys) {
        const name = this.secretName(d.name);
        const finalKey = this.secretKey(d.name, key);
        if (name === d.name && finalKey === key) continue;
        (out[d.name] ??= {})[key] = { valueFrom: { secretKeyRef: { name, key: finalKey } } };
      }
    }
    return out;
  }

  /**
   * Values of the subcharts that read a Secret by name rather than through
   * `nkeySecretRefOverrides`: the NACK controller mounts `nats-nack-user` as
   * `nack.jetstream.nats.nkey.secret` and Surveyor mounts `nats-surveyor` as
   * `surveyor.config.nkey.secret` (both `{ name, key }`). Set only for a
   * Secret whose name or NKey key was overridden, so a renamed Secret reaches
   * every pod that mounts it. Empty when neither was.
   */
  public subchartSecretValues(): any {
    const out: Record<string, unknown> = {};
    const ref = (secret: string, key: string) => {
      const name = this.secretName(secret);
      const finalKey = this.secretKey(secret, key);
      return name === secret && finalKey === key ? undefined : { secret: { name, key: finalKey } };
    };
    const nack = ref(NACK_USER, NACK_NKEY_FILE);
    if (nack) out.nack = { jetstream: { nats: { nkey: nack } } };
    const surveyor = ref(SURVEYOR, 'seed');
    if (surveyor) out.surveyor = { config: { nkey: surveyor } };
    return out;
  }

  /** Every Secret the chart reads on this cluster, in the order of upstream's [Required Secrets](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets), leaf Secrets last. */
  public listSecrets(): SecretDescription[] {
    return [...this.defs.values()].map((d) => ({
      defaultName: d.name,
      name: this.secretName(d.name),
      keys: d.keys.map((k) => ({ defaultKey: k, key: this.secretKey(d.name, k) })),
      emitted: this.emitted.has(d.name),
    }));
  }

  /**
   * Adds this cluster's side of the leaf pairs of a CPC (the built-in pair
   * and one per extra account) alone: on the CSC the `pubkey` Secrets, on a
   * CPC the `seed` Secrets, each read from this side's key store at
   * synthesis. (`createLeafConnections` does this; a `LeafConnection` reads
   * each pair once and hands each side its half instead.)
   * @param cpc a CPC of this cluster (one of the CSC's CPCs, or this CPC)
   * @param joinedBy what joins the pair, for error messages
   */
  public addLeafSecrets(cpc: EventBusCluster, joinedBy?: string): void {
    this._addLeafSecrets(cpc, joinedBy, undefined);
  }

  /**
   * {@link addLeafSecrets}, with this side's half of each pair given by what
   * joined it (`half(accountToken)`: the CSC's public key or the CPC's seed,
   * read once by the LeafConnection) instead of read here.
   * @internal
   */
  public _addLeafSecrets(cpc: EventBusCluster, joinedBy: string | undefined, half: ((accountToken: string | undefined) => string) | undefined): void {
    const where = joinedBy ?? this.node.path;
    if (!(cpc instanceof EventBusCluster) || cpc.role !== ClusterRole.CPC) {
      throw problem({ where, problem: `${cpc instanceof EventBusCluster ? cpc.displayName : quote(cpc)} is not a CPC`, fix: 'pass the CPC: EventBusCluster.cpc(id)' });
    }
    const cpcId = cpc.cpcId!;
    const mine = this.ownCpcIds();
    if (!mine.includes(cpcId)) {
      throw problem({
        where,
        problem: this.cluster.role === ClusterRole.CSC
          ? `CPC id ${quote(cpcId)} is not among the cpcIds of the CSC Secrets at ${this.node.path} (${mine.map((i) => quote(i)).join(', ') || 'none'})`
          : `CPC id ${quote(cpcId)} differs from the id of the CPC Secrets at ${this.node.path} (${quote(this.cluster.cpcId)})`,
        fix: this.cluster.role === ClusterRole.CSC ? `add ${quote(cpcId)} to EventBusCluster.csc({ cpcIds }), or call addCpc(EventBusCluster.cpc(${quote(cpcId)}))` : 'join the CPC whose id this is',
      });
    }
    const existing = this.joined.get(cpcId);
    if (existing !== undefined) {
      throw problem({ where, problem: `${this.cluster.displayName} at ${this.node.path} is already joined to CPC-${cpcId} by ${existing}`, fix: 'create one LeafConnection per CPC' });
    }
    this.joined.set(cpcId, joinedBy ?? `${this.node.path} (createLeafConnections)`);
    if (joinedBy === undefined) this.alone.add(cpcId);
    const csc = this.cluster.role === ClusterRole.CSC;
    const km = this.delivery._needsValues ? this.keyMaterial : undefined;
    const own = (token: string | undefined): string => (csc
      ? km!.readPublicKey(CSC, cscLeafSecretName(cpcId, token)).value
      : km!.readSeed(cpc.directory, cpcLeafSecretName(token)).reveal());
    const read = half ?? own;
    for (const token of [undefined, ...this.accountTokens]) {
      const value = km && ((): Map<string, Buffer> => new Map([[csc ? 'pubkey' : 'seed', Buffer.from(read(token), 'utf8')]]));
      this.emit(leafSecretDef(csc ? 'csc' : 'cpc', cpcId, token), value);
    }
  }

  private ownCpcs(): EventBusCluster[] {
    return this.cluster.role === ClusterRole.CSC ? this.cluster.cpcs : [this.cluster];
  }

  private ownCpcIds(): string[] {
    return this.ownCpcs().map((c) => c.cpcId!);
  }

  /**
   * At synthesis: ensures the key store (once per app), checks the pairs this
   * side added alone within its store, and lists the leaf pairs nothing joined.
   */
  private validateKeysAndLeaves(): string[] {
    const km = this.keyMaterial;
    if (km) {
      km.ensureNeeded();
      for (const cpcId of this.alone) {
        for (const token of [undefined, ...this.accountTokens]) readLeafPair(km, km, cpcId, token);
      }
    }
    return this.missingLeafConnections();
  }

  private resolveServerTls(given: MtlsServerTls | undefined, where: string): MtlsServerTls | undefined {
    if (!this.mtls) {
      if (given) throw problem({ where, problem: 'mtlsServerTls is set, but mtls is false', fix: 'remove mtlsServerTls, or enable mTLS' });
      return undefined;
    }
    const tls = given ?? MtlsServerTls.fromDelivery();
    if (!(tls instanceof MtlsServerTls)) {
      throw problem({ where, problem: 'mtlsServerTls is not an MtlsServerTls', fix: 'use MtlsServerTls.fromTlsSecretSource(…), .fromPem(…), .fromPemFiles(…) or .fromDelivery()' });
    }
    const kind = this.delivery.kind;
    if (tls.kind === MtlsServerTlsKind.DELIVERY && this.delivery._needsValues) {
      throw problem({
        where,
        field: 'mtlsServerTls',
        problem: `mTLS is enabled and ${MTLS_SERVER_TLS} is to come from the delivery strategy, but ${kind} delivery has no value for it`,
        fix: 'set it to MtlsServerTls.fromPemFiles({ caFile, certFile, keyFile }) or MtlsServerTls.fromTlsSecretSource(serverCertificate), or set mtls: false',
      });
    }
    if (tls.kind === MtlsServerTlsKind.PEM && !this.delivery._needsValues) {
      throw problem({
        where,
        field: 'mtlsServerTls',
        problem: `PEM files would put the TLS private key into the manifest, but delivery ${kind} keeps key material out of manifests`,
        fix: 'remove it (the delivery then provides nats-mtls-server-tls) or use MtlsServerTls.fromTlsSecretSource(serverCertificate), or use the delivery SecretsDelivery.inline() for an evaluation cluster',
      });
    }
    return tls;
  }

  private applyOverrides(overrides: SecretOverride[], where: string): void {
    for (const o of overrides) {
      const d = this.defs.get(o?.secret);
      if (!d) {
        const mtlsOnly = !this.mtls && clusterSecretDefs(true).some((s) => s.name === o?.secret);
        throw problem({
          where,
          problem: mtlsOnly
            ? `Secret ${quote(o.secret)} is not used because mtls is false`
            : `${quote(o?.secret)} is not a Secret of ${this.cluster.displayName}`,
          allowed: [...this.defs.keys()].join(', '),
          fix: mtlsOnly ? 'remove this override, or enable mTLS' : 'use the upstream Secret name',
        });
      }
      if (this.overrides.has(d.name)) {
        throw problem({ where, problem: `Secret ${d.name} is overridden twice`, fix: 'merge the two overrides into one' });
      }
      if (o.name !== undefined) validateObjectName(o.name, where, `new name of ${d.name}`);
      if (d.origin === 'tls' && o.name !== undefined && o.name !== d.name) {
        // The chart writes this name into two lists (a pod-template patch and an
        // auth-callout volume template); a values file can only replace a list
        // whole, which would copy the chart's own entries into ours.
        throw problem({
          where,
          problem: `${MTLS_SERVER_TLS} cannot be renamed (to ${quote(o.name)}): the chart writes that name into the lists nats-mtls.podTemplate.patch and auth-callout.extraVolumeTemplates, `
            + 'which a values file can only replace whole, so the nats-mtls and auth-callout pods would still mount the old name',
          allowed: `the name ${MTLS_SERVER_TLS}`,
          fix: `remove this override and have the Secret written as ${MTLS_SERVER_TLS} (the cert-manager Certificate's secretName or the delivery's target), or set mtls: false`,
        });
      }
      const keys = new Map<string, string>();
      for (const [from, to] of Object.entries(o.keys ?? {})) {
        if (!d.keys.includes(from)) {
          throw problem({ where, problem: `Secret ${d.name} has no key ${quote(from)}`, allowed: d.keys.join(', '), fix: 'use an upstream key name on the left' });
        }
        if (d.origin === 'tls') {
          throw problem({ where, problem: `the keys of ${MTLS_SERVER_TLS} cannot be renamed`, allowed: 'renaming the Secret only; its keys stay ca.crt, tls.crt and tls.key (what cert-manager writes)', fix: `remove keys from the ${d.name} override` });
        }
        validateSecretKey(to, `${where}: ${d.name}`);
        keys.set(from, to);
      }
      const finalKeys = d.keys.map((k) => keys.get(k) ?? k);
      const dup = finalKeys.find((k, i) => finalKeys.indexOf(k) !== i);
      if (dup) throw problem({ where, problem: `Secret ${d.name} would have the key ${quote(dup)} twice`, fix: 'give each key its own name' });
      this.overrides.set(d.name, { name: o.name ?? d.name, keys });
    }
    this.checkFinalNames([...this.defs.values()], where);
  }

  private checkFinalNames(defs: SecretDef[], where: string): void {
    for (const d of defs) {
      const name = this.overrides.get(d.name)?.name ?? d.name;
      // Leaf Secret names grow with the CPC id and the account name; neither has a length limit of its own.
      if (name.length > 253) {
        throw problem({
          where,
          problem: `the Secret name ${quote(name)} has ${name.length} characters`,
          allowed: 'at most 253 characters (a Kubernetes object name)',
          fix: 'shorten the CPC id or the extra account name, or rename the Secret with an override',
        });
      }
      const other = this.finalNames.get(name);
      if (other) {
        throw problem({ where, problem: `Secrets ${other} and ${d.name} would both be named ${quote(name)}`, fix: 'give each Secret its own name' });
      }
      this.finalNames.set(name, d.name);
    }
  }

  private checkServerTlsSource(where: string): void {
    const source = this.mtlsServerTls?.kind === MtlsServerTlsKind.TLS_SECRET_SOURCE ? this.mtlsServerTls.source! : undefined;
    if (!source) return;
    const expected = this.secretName(MTLS_SERVER_TLS);
    if (source.tlsSecretName !== expected) {
      throw problem({
        where: `${where}: mtlsServerTls`,
        problem: `the TLS Secret source writes the Secret ${quote(source.tlsSecretName)}, but the chart is told to read ${quote(expected)}`,
        fix: `name the certificate's Secret ${quote(expected)} (the chart mounts that name and it cannot be renamed)`,
      });
    }
    if (source.tlsSecretNamespace !== undefined && this.namespace !== undefined && source.tlsSecretNamespace !== this.namespace) {
      throw problem({
        where: `${where}: mtlsServerTls`,
        problem: `the TLS Secret ${quote(source.tlsSecretName)} is written to namespace ${quote(source.tlsSecretNamespace)}, but the chart reads Secrets from ${quote(this.namespace)}`,
        fix: 'create the certificate in the chart\'s namespace',
      });
    }
  }

  private emitServerTls(d: SecretDef): void {
    const tls = this.mtlsServerTls!;
    if (tls.kind === MtlsServerTlsKind.TLS_SECRET_SOURCE) return;
    // From PEM: in clear (inline) unless the delivery seals it.
    const delivery = this.delivery._needsValues ? this.delivery : SecretsDelivery.inline();
    if (tls.kind === MtlsServerTlsKind.PEM) this.emit(d, () => tls._pemValues(), delivery);
    else this.emit(d, undefined);
  }

  private emit(d: SecretDef, values: (() => Map<string, Buffer>) | undefined, delivery: SecretsDelivery = this.delivery): ApiObject[] {
    const material = d.origin === 'tls' ? 'tls-private-key'
      : d.keys.some((k) => describeKeyFile(d.leaf ? leafCluster(d) : this.cluster.directory, d.name, k).form === 'seed') ? 'seeds' : 'public-keys';
    const secret: DeliveredSecret = {
      id: d.name,
      name: this.secretName(d.name),
      namespace: this.namespace,
      labels: this.labels,
      annotations: this.annotations,
      immutable: this.immutable,
      cluster: this.cluster,
      defaultName: d.name,
      keys: d.keys.map((k) => ({ defaultKey: k, key: this.secretKey(d.name, k) })),
      material,
      values,
    };
    const objects = delivery._emit(this, secret);
    if (objects.length) this.emitted.add(d.name);
    return objects;
  }

  private defOf(name: string, method: string): SecretDef {
    const d = this.defs.get(name);
    if (!d) {
      throw problem({
        where: `${this.node.path}: ${method}`,
        problem: `${quote(name)} is not a Secret of ${this.cluster.displayName}${!this.mtls && clusterSecretDefs(true).some((s) => s.name === name) ? ' (mtls is false)' : ''}`,
        allowed: [...this.defs.keys()].join(', '),
      });
    }
    return d;
  }

  private missingLeafConnections(): string[] {
    return this.ownCpcIds().filter((id) => !this.joined.has(id)).map((id) => formatProblem({
      problem: `no LeafConnection joins ${this.cluster.role === ClusterRole.CSC ? `the CSC to CPC-${id}` : `CPC-${id} to the CSC`}, so ${
        [undefined, ...this.accountTokens].map((t) => leafSecretDef(this.cluster.role === ClusterRole.CSC ? 'csc' : 'cpc', id, t).name).join(', ')} ${this.accountTokens.length ? 'are' : 'is'} missing`,
      fix: `add new LeafConnection(scope, id, { ${this.cluster.role === ClusterRole.CSC ? `csc: <these secrets>, cpc: <the CPC-${id} secrets>` : 'csc: <the CSC secrets>, cpc: <these secrets>'} }), or set createLeafConnections: true to emit this side alone`,
    }));
  }
}

function toBuffers(entries: Array<[string, string]>): Map<string, Buffer> {
  return new Map(entries.map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
}

function leafCluster(d: SecretDef): string {
  return d.leaf!.side === 'csc' ? CSC : cpcCluster(d.leaf!.cpcId);
}
