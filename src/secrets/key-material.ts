/**
 * The key material of one app, read from one key store without any I/O in a
 * construct constructor: constructors only record what their cluster needs
 * ({@link KeyMaterial.need}); the first read (at synthesis) `ensure`s the
 * store once for everything recorded so far (one call for a whole fleet, the
 * CSC's request already naming every CPC) and every key is read once per app.
 * Internal to the package.
 */
import type { IConstruct } from 'constructs';
import type { NKeyPublicKey, NKeySeed } from '../keys/nkey';
import type { IKeyStore, KeyStoreRequest } from '../keys/store';

interface Group {
  readonly extraAccounts: string[];
  readonly cpcIds: string[];
  ensured: boolean;
}

const perApp = new WeakMap<IConstruct, Map<IKeyStore, KeyMaterial>>();

/** A key store as seen by the constructs of one app (see the file comment). */
export class KeyMaterial implements IKeyStore {
  /** The key material of `store` in the app of `scope` (one object per app and store). */
  public static of(scope: IConstruct, store: IKeyStore): KeyMaterial {
    const root = scope.node.root;
    let stores = perApp.get(root);
    if (!stores) perApp.set(root, stores = new Map());
    let km = stores.get(store);
    if (!km) stores.set(store, km = new KeyMaterial(store));
    return km;
  }

  public readonly description: string;
  private readonly groups = new Map<string, Group>();
  private readonly cache = new Map<string, NKeySeed | NKeyPublicKey>();

  private constructor(public readonly store: IKeyStore) {
    this.description = store.description;
  }

  /** Records what a construct needs; nothing is read. */
  public need(request: KeyStoreRequest): void {
    const extraAccounts = [...(request.extraAccounts ?? [])];
    const key = JSON.stringify(extraAccounts);
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, g = { extraAccounts, cpcIds: [], ensured: false });
    for (const id of request.cpcIds) {
      if (g.cpcIds.includes(id)) continue;
      g.cpcIds.push(id);
      g.ensured = false;
    }
  }

  /** Records `request` and ensures the store for everything recorded. */
  public ensure(request: KeyStoreRequest): void {
    this.need(request);
    this.ensureNeeded();
  }

  /** One `ensure` of the store per set of extra accounts with something new since the last one. */
  public ensureNeeded(): void {
    for (const g of this.groups.values()) {
      if (g.ensured) continue;
      this.store.ensure({ cpcIds: [...g.cpcIds], extraAccounts: [...g.extraAccounts] });
      g.ensured = true;
    }
  }

  public readSeed(cluster: string, secretName: string, key: string = 'seed'): NKeySeed {
    return this.read(`${cluster}/${secretName}/${key}`, () => this.store.readSeed(cluster, secretName, key)) as NKeySeed;
  }

  public readPublicKey(cluster: string, secretName: string, key: string = 'pubkey'): NKeyPublicKey {
    return this.read(`${cluster}/${secretName}/${key}`, () => this.store.readPublicKey(cluster, secretName, key)) as NKeyPublicKey;
  }

  private read(id: string, load: () => NKeySeed | NKeyPublicKey): NKeySeed | NKeyPublicKey {
    let v = this.cache.get(id);
    if (!v) {
      this.ensureNeeded();
      v = load();
      this.cache.set(id, v);
    }
    return v;
  }
}
