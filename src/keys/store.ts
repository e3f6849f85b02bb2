import * as crypto from 'crypto';
import { problem } from '../errors';
import { describeKeyFile, KeyFileInfo, validateCpcId, validateExtraAccounts, validateUniqueCpcIds } from './layout';
import { NKeyPublicKey, NKeySeed } from './nkey';

/** Which clusters and extra accounts a store must hold keys for. */
export interface KeyStoreRequest {
  /** CPC ids of the fleet; the CSC is always included. */
  readonly cpcIds: string[];
  /**
   * Extra NATS accounts; each adds one leaf key pair per CPC.
   * @default - none
   */
  readonly extraAccounts?: string[];
}

/**
 * A source of NKey material laid out as the upstream `generate-nkeys.sh`
 * writes it: `<cluster>/nkeys/<secret-name>/<key>` with `<cluster>` = `csc`
 * or `cpc-<id>`. Implemented by the directory store (real keys) and the
 * deterministic store (test and snapshot keys).
 */
export interface IKeyStore {
  /** Where the keys come from, for error messages (never holds key material). */
  readonly description: string;

  /**
   * Makes sure every key the request needs is present: generates missing keys
   * when the store is allowed to, and otherwise throws one error listing what
   * is missing and the command that creates it.
   */
  ensure(request: KeyStoreRequest): void;

  /**
   * Reads a seed file, e.g. `('cpc-1', 'nats-leaf-csc', 'seed')`.
   * @param key file name inside the secret directory; default `seed`
   */
  readSeed(cluster: string, secretName: string, key?: string): NKeySeed;

  /**
   * Reads a public-key file, e.g. `('csc', 'nats-leaf-cpc-1')`.
   * @param key file name inside the secret directory; default `pubkey`
   */
  readPublicKey(cluster: string, secretName: string, key?: string): NKeyPublicKey;
}

/** Validates a store request with the upstream naming rules; returns the extra accounts' secret tokens. */
export function validateKeyStoreRequest(request: KeyStoreRequest, where: string): string[] {
  for (const id of request.cpcIds) validateCpcId(id, where);
  validateUniqueCpcIds(request.cpcIds, where);
  return validateExtraAccounts(request.extraAccounts ?? [], where);
}

/** Checks that a file of the layout holds the expected form; returns what it is. */
export function expectForm(cluster: string, secretName: string, key: string, form: 'seed' | 'pubkey'): KeyFileInfo {
  const info = describeKeyFile(cluster, secretName, key);
  if (info.form !== form) {
    throw problem({
      where: `${cluster}/nkeys/${secretName}/${key}`,
      problem: `holds a ${info.form === 'seed' ? 'seed' : 'public key'}, not a ${form === 'seed' ? 'seed' : 'public key'}`,
      fix: `read it with ${info.form === 'seed' ? 'readSeed' : 'readPublicKey'}`,
    });
  }
  return info;
}

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
