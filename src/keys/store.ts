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
   * Whether anyone can derive this store's seeds (a test store such as
   * `DeterministicKeyStore`). Output made from such a store is marked
   * (label `cdk8s-dsx-event-bus/test-keys` on every object, a header in
   * every values file) with a warning, and the deliveries that put key
   * values into objects (inline, sealedSecrets) refuse it unless
   * `allowTestKeys` is set.
   * @default false
   */
  readonly testOnly?: boolean;

  /**
   * Checks that every key the request needs is present and consistent, and
   * otherwise throws one error listing what is missing and how to create it.
   * Never writes: synthesis calls it, and synthesis only reads.
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
