import * as crypto from 'crypto';
import { BACKGROUND_MIN_KEYS, BackgroundDerivation } from './background-derivation';
import { problem } from '../errors';
import { CSC, describeKeyFile, fleetKeyFiles, KeyFileInfo } from '../keys/layout';
import { NKeyKind, NKeyPublicKey, NKeySeed } from '../keys/nkey';
import { expectForm, IKeyStore, KeyStoreRequest, validateKeyStoreRequest } from '../keys/store';

/** Properties of a {@link DeterministicKeyStore}. */
export interface DeterministicKeyStoreProps {
  /**
   * The phrase every key is derived from. Two stores with the same phrase hold
   * the same keys on every machine.
   * @default DeterministicKeyStore.DEFAULT_PHRASE
   */
  readonly phrase?: string;
}

/**
 * An in-memory key store whose keys are derived from a fixed phrase:
 * `HMAC-SHA256(phrase, key-pair origin)` → 32-byte seed → NKey codec. Copies
 * (`auth-callout-keys/*`, `nack-user.nk`) and both sides of each leaf pair
 * share one origin, so the store is always consistent.
 *
 * For tests and snapshot tests only: anyone who knows the phrase knows every
 * seed. Synthesized manifests stay byte-identical across runs and machines.
 */
export class DeterministicKeyStore implements IKeyStore {
  /** The phrase used when none is given. */
  public static readonly DEFAULT_PHRASE = 'cdk8s-dsx-event-bus deterministic TEST keys - never use in production';

  public readonly description: string;
  private readonly phrase: string;
  private readonly seeds = new Map<string, NKeySeed>();
  /** Key pairs whose public keys a background thread derives (see ./background-derivation.ts). */
  // (undefined once read: the seed then holds its public key).
  private readonly background = new Map<string, { derivation: BackgroundDerivation; index: number } | undefined>();

  constructor(props: DeterministicKeyStoreProps = {}) {
    this.phrase = props.phrase ?? DeterministicKeyStore.DEFAULT_PHRASE;
    if (this.phrase.length === 0) {
      throw problem({ where: 'DeterministicKeyStore', problem: 'phrase is empty', fix: 'omit phrase to use the default, or give a non-empty one' });
    }
    this.description = 'deterministic test key store (keys derived from a phrase; not for production)';
  }

  /**
   * Validates the request; every key of any valid fleet already exists in
   * this store. For a large fleet the public keys are derived on a
   * background thread from here on, while the caller goes on.
   */
  public ensure(request: KeyStoreRequest): void {
    const tokens = validateKeyStoreRequest(request, this.description);
    // The CSC's keys first: its chart is rendered first and reads every leaf pair.
    const files = fleetKeyFiles(request.cpcIds, tokens);
    const infos: KeyFileInfo[] = [];
    const seen = new Set<string>();
    for (const f of [...files.filter((x) => x.cluster === CSC), ...files.filter((x) => x.cluster !== CSC)]) {
      const info = describeKeyFile(f.cluster, f.secretName, f.key);
      if (seen.has(info.origin) || this.background.has(info.origin)) continue;
      seen.add(info.origin);
      infos.push(info);
    }
    if (infos.length < BACKGROUND_MIN_KEYS) return;
    const raws = infos.map((info) => {
      const raw = this.rawSeed(info);
      if (!this.seeds.has(info.origin)) this.seeds.set(info.origin, NKeySeed._fromRaw(info.kind, raw));
      return raw;
    });
    const derivation = new BackgroundDerivation(raws, infos.map((info) => info.kind === NKeyKind.CURVE));
    infos.forEach((info, index) => this.background.set(info.origin, { derivation, index }));
  }

  public readSeed(cluster: string, secretName: string, key: string = 'seed'): NKeySeed {
    return this.seedOf(expectForm(cluster, secretName, key, 'seed'));
  }

  public readPublicKey(cluster: string, secretName: string, key: string = 'pubkey'): NKeyPublicKey {
    const info = expectForm(cluster, secretName, key, 'pubkey');
    const seed = this.seedOf(info);
    const slot = this.background.get(info.origin);
    if (slot) this.background.set(info.origin, undefined);
    const raw = slot?.derivation.take(slot.index);
    return raw ? seed._withDerivedPublicKey(raw) : seed.publicKey;
  }

  private rawSeed(info: KeyFileInfo): Buffer {
    return crypto.createHmac('sha256', this.phrase).update(info.origin).digest();
  }

  private seedOf(info: KeyFileInfo): NKeySeed {
    let seed = this.seeds.get(info.origin);
    if (!seed) {
      seed = NKeySeed._fromRaw(info.kind, this.rawSeed(info));
      this.seeds.set(info.origin, seed);
    }
    return seed;
  }
}
