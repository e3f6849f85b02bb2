import * as crypto from 'crypto';
import { problem } from '../errors';
import { KeyFileInfo } from '../keys/layout';
import { NKeyPublicKey, NKeySeed } from '../keys/nkey';
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
 * Its output is loud about it: every object carries the label
 * `cdk8s-dsx-event-bus/test-keys: "true"`, every values file starts with a
 * comment saying so, synthesis warns once per process, and inline or sealed
 * delivery refuses it unless given `allowTestKeys: true`.
 */
export class DeterministicKeyStore implements IKeyStore {
  /** The phrase used when none is given. */
  public static readonly DEFAULT_PHRASE = 'cdk8s-dsx-event-bus deterministic TEST keys - never use in production';

  public readonly description: string;
  /** Always true: anyone who knows the phrase knows every seed. */
  public readonly testOnly?: boolean = true;
  private readonly phrase: string;
  private readonly seeds = new Map<string, NKeySeed>();

  constructor(props: DeterministicKeyStoreProps = {}) {
    this.phrase = props.phrase ?? DeterministicKeyStore.DEFAULT_PHRASE;
    if (this.phrase.length === 0) {
      throw problem({ where: 'DeterministicKeyStore', problem: 'phrase is empty', fix: 'omit phrase to use the default, or give a non-empty one' });
    }
    this.description = 'deterministic test key store (keys derived from a phrase; not for production)';
  }

  /** Validates the request; every key of any valid fleet already exists in this store. */
  public ensure(request: KeyStoreRequest): void {
    validateKeyStoreRequest(request, this.description);
  }

  public readSeed(cluster: string, secretName: string, key: string = 'seed'): NKeySeed {
    return this.seedOf(expectForm(cluster, secretName, key, 'seed'));
  }

  public readPublicKey(cluster: string, secretName: string, key: string = 'pubkey'): NKeyPublicKey {
    return this.seedOf(expectForm(cluster, secretName, key, 'pubkey')).publicKey;
  }

  /**
   * What every key of this store is derived from (for synth's record, which
   * keeps it to leave an unchanged cluster unrendered): a digest of the
   * phrase. A test store's phrase may be guessable, and so are its keys
   * then: they are for tests only.
   * @internal
   */
  public _inputsDigest(_cluster: string): string {
    return crypto.createHash('sha256').update(`deterministic-key-store 1\0${this.phrase}`).digest('hex');
  }

  private seedOf(info: KeyFileInfo): NKeySeed {
    let seed = this.seeds.get(info.origin);
    if (!seed) {
      const raw = crypto.createHmac('sha256', this.phrase).update(info.origin).digest();
      seed = NKeySeed._fromRaw(info.kind, raw);
      this.seeds.set(info.origin, seed);
    }
    return seed;
  }
}
