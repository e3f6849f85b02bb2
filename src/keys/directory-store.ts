import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { EventBusError, problem } from '../errors';
import { commandFor, defectsError, MAX_KEY_FILE_BYTES, NKeysRequest, PlanMode, withList } from './engine/plan';
import { RotationBook } from './engine/rotation-state';
import { generate, inspect } from './engine/writer';
import { CSC, cpcCluster, cpcLeafSecretName, cscLeafSecretName, KeyFileInfo } from './layout';
import { NKeyKind, NKeyPublicKey, NKeySeed } from './nkey';
import { AcceptedRotationKey, RevokedCpc, RotationStatus, RotationTarget } from './rotation';
import { expectForm, IKeyStore, KeyStoreRequest, validateKeyStoreRequest } from './store';
import { describeOwner, groupOrOthersMayWrite, modeBits, ownerTrusted, readRegularFile } from '../files/safe-fs';

/** Options of {@link DirectoryKeyStore.open}. */
export interface DirectoryKeyStoreOptions {
  /**
   * No longer supported: `true` throws. Synthesis only reads keys; create
   * missing keys with the explicit step before it,
   * `DirectoryKeyStore.open(dir).generateMissing(request)` (or the CLI's
   * `synth --generate-missing`).
   *
   * @default false
   * @deprecated call {@link DirectoryKeyStore.generateMissing} before synthesis
   */
  readonly generateMissing?: boolean;
}

/**
 * NKey material in a directory laid out like the output of the upstream
 * `deploy/scripts/generate-nkeys.sh` and of `dsx-event-bus nkeys`:
 * `<root>/<cluster>/nkeys/<secret-name>/<key>`.
 *
 * Every read is verified and cached: the value must parse as the key kind
 * the layout expects (e.g. `nats-xkey` holds a curve key), a seed must derive
 * its sibling `pubkey`, copies (`auth-callout-keys/*`, `nack-user.nk`) must
 * equal their sources, and the two sides of a leaf pair must match when both
 * are in this root. Errors name the file. Trailing whitespace is tolerated.
 */
export class DirectoryKeyStore implements IKeyStore {
  /**
   * Opens the key store at `root` (nothing is read or written until used).
   * @param root the output directory of `dsx-event-bus nkeys -o`, e.g. `deploy/secrets`
   */
  public static open(root: string, options: DirectoryKeyStoreOptions = {}): DirectoryKeyStore {
    if (typeof root !== 'string' || root.trim() === '') {
      throw problem({ where: 'DirectoryKeyStore.open', problem: `root ${JSON.stringify(root)} is empty`, fix: 'pass the key-store directory, e.g. "deploy/secrets"' });
    }
    if (options.generateMissing === true) {
      throw problem({
        where: 'DirectoryKeyStore.open',
        problem: 'the option generateMissing is no longer supported: synthesis (validate) only reads keys, it never writes them',
        allowed: 'generateMissing unset or false',
        fix: `create the missing keys in an explicit step before synthesis: DirectoryKeyStore.open(${JSON.stringify(root)}).generateMissing({ cpcIds: [...] }) (for a fleet: keys.generateMissing(fleet.keyStoreRequest)), or run dsx-event-bus nkeys`,
      });
    }
    return new DirectoryKeyStore(path.resolve(root));
  }

  /** The absolute path of the key-store root. */
  public readonly root: string;
  public readonly description: string;
  private readonly cache = new Map<string, NKeySeed | NKeyPublicKey>();
  private readonly book: RotationBook;
  private rootChecked = false;

  private constructor(root: string) {
    this.root = root;
    this.description = `key store directory ${root}`;
    this.book = new RotationBook(root, this.description);
  }

  /**
   * Starts a rotation (stage `overlap`): generates the new pair(s) and keeps
   * them beside the current ones (in `.dsx-event-bus.state/`, where the
   * upstream script does not look). From now on the accepting cluster's
   * output accepts both keys; the layout, and so the presenting cluster's
   * output, is unchanged. Deploy the accepting cluster, then advance.
   */
  public startRotation(target: RotationTarget): RotationStatus {
    const { status } = this.book.start(target, {
      read: (f) => (f.form === 'seed' ? this.readSeed(f.cluster, f.secretName, f.key).reveal() : this.readPublicKey(f.cluster, f.secretName, f.key).value),
    });
    this.cache.clear();
    return status;
  }

  /**
   * Moves a rotation one stage on; call it only once the output of the
   * current stage is deployed (see {@link RotationStatus.confirmBeforeNextStep}).
   * `overlap` → `switched`: the layout now holds the new pair (the
   * presenting cluster presents it), the old public key stays accepted.
   * `switched` → done: the old key is no longer accepted; the old pair is
   * archived with its dates and the rotation ends (returns undefined).
   */
  public advanceRotation(target: RotationTarget): RotationStatus | undefined {
    const { status } = this.book.advance(target);
    this.cache.clear();
    return status;
  }

  /** The rotations in progress, in the order they were started. */
  public rotations(): RotationStatus[] {
    return this.book.statuses();
  }

  /**
   * The public keys `cluster` (`csc` or `cpc-<id>`) accepts beside the
   * layout's while rotations are in progress; the charts add one
   * auth-callout permission entry for each.
   */
  public acceptedRotationKeys(cluster: string): AcceptedRotationKey[] {
    return this.book.accepted(cluster);
  }

  /**
   * A digest of everything of this store a cluster's output is rendered
   * from (synth's record keeps it to leave an unchanged cluster unrendered):
   * every file under `<root>/<cluster>/nkeys/` (its path and the sha256 of
   * its bytes) and the public keys it accepts for rotations in progress.
   * The CSC's folder holds the CSC side (public key) of every CPC's leaf
   * pairs; a CPC's holds its own seeds. A seed is 256 random bits, so its
   * sha256 (hashed once more here) reveals nothing about it. Undefined when
   * something in the folder is not a regular file or folder (then the
   * cluster is rendered).
   * @internal
   */
  public _inputsDigest(cluster: string): string | undefined {
    const h = crypto.createHash('sha256');
    h.update('directory-key-store 1\0');
    const walk = (dir: string, rel: string): boolean => {
      let names: string[];
      try {
        names = fs.readdirSync(dir).sort();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && rel === '') return true;
        return false;
      }
      for (const name of names) {
        const p = path.join(dir, name);
        const r = rel ? `${rel}/${name}` : name;
        const st = fs.lstatSync(p);
        if (st.isDirectory()) {
          h.update(`d ${r}\n`);
          if (!walk(p, r)) return false;
        } else if (st.isFile()) {
          h.update(`f ${r} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}\n`);
        } else {
          return false;
        }
      }
      return true;
    };
    if (!walk(path.join(this.root, cluster, 'nkeys'), '')) return undefined;
    h.update(JSON.stringify(this.acceptedRotationKeys(cluster)));
    return h.digest('hex');
  }

  /**
   * Revokes a CPC: its keys (its folder and the CSC side of each of its leaf
   * pairs) move to an archive in `.dsx-event-bus.state/archive/`, and
   * `ensure()` refuses its id from now on. Remove the CPC from the fleet
   * and deploy the CSC: it then accepts none of its keys.
   */
  public revokeCpc(cpcId: string): RevokedCpc {
    validateKeyStoreRequest({ cpcIds: [cpcId] }, 'revokeCpc');
    const { record } = this.book.revoke(cpcId);
    this.cache.clear();
    return record;
  }

  /**
   * Lifts the revocation of `cpcId` on purpose: the id may be used again,
   * with new keys (the archived ones are never restored);
   * {@link generateMissing} or `dsx-event-bus nkeys` then creates them.
   */
  public reinstateCpc(cpcId: string): RevokedCpc {
    validateKeyStoreRequest({ cpcIds: [cpcId] }, 'reinstateCpc');
    return this.book.reinstate(cpcId).record;
  }

  /** The revoked CPCs. */
  public revokedCpcs(): RevokedCpc[] {
    return this.book.revoked();
  }

  /**
   * Creates every key `request` needs that is missing, exactly as
   * `dsx-event-bus nkeys` does (same code path, same lock, same crash
   * safety, synchronously); keys that exist are never regenerated, since a
   * new key for a running cluster would break it. The explicit step before
   * synthesis: synthesis itself only reads ({@link ensure} never writes).
   * Defects (bad modes, mismatched pairs, wrong key kinds, differing
   * copies) throw, and nothing is written.
   *
   * For a fleet: `keys.generateMissing(fleet.keyStoreRequest)` before `app.synth()`.
   */
  public generateMissing(request: KeyStoreRequest): void {
    const req = this.checkedRequest(request);
    const { plan } = generate(this.root, this.root, req);
    this.cache.clear();
    if (plan.defects.length) throw defectsError(plan, this.description);
  }

  /**
   * Checks that every key `request` needs is present and consistent; never
   * writes. A missing key throws one error listing what is missing and the
   * two ways to create it (the exact `dsx-event-bus nkeys` command, or
   * {@link generateMissing} before synthesis). Defects (bad modes,
   * mismatched pairs, wrong key kinds, differing copies) throw too.
   */
  public ensure(request: KeyStoreRequest): void {
    const req = this.checkedRequest(request);
    const plan = inspect(this.root, this.root, req, PlanMode.VERIFY);
    if (plan.defects.length) throw defectsError(plan, this.description);
    if (plan.missing.length) {
      throw withList(problem({
        where: this.description,
        problem: `${plan.missing.length} key ${plan.missing.length === 1 ? 'entry is' : 'entries are'} missing (listed below)`,
        fix: `run \`${commandFor(this.root, req)}\`, or create them before synthesis: DirectoryKeyStore.open(dir).generateMissing(request)`,
      }), plan.missing);
    }
  }

  /** The request checked with the upstream naming rules and against revoked CPCs. */
  private checkedRequest(request: KeyStoreRequest): NKeysRequest {
    const tokens = validateKeyStoreRequest(request, this.description);
    this.book.checkUsable(request.cpcIds, this.description);
    return {
      cpcIds: [...request.cpcIds],
      accounts: (request.extraAccounts ?? []).map((name, i) => ({ name, token: tokens[i] })),
    };
  }

  public readSeed(cluster: string, secretName: string, key: string = 'seed'): NKeySeed {
    const info = expectForm(cluster, secretName, key, 'seed');
    const id = `${cluster}/${secretName}/${key}`;
    const cached = this.cache.get(id);
    if (cached) return cached as NKeySeed;
    const seed = this.parseSeed(cluster, secretName, key, info.kind, true)!;
    if (info.leaf) {
      // CPC side of a leaf pair: the CSC side, if in this root, must hold its public key.
      const cscName = cscLeafSecretName(info.leaf.cpcId, info.leaf.accountToken);
      const pub = this.parsePublicKey(CSC, cscName, 'pubkey', NKeyKind.USER, false);
      if (pub) this.checkDerives(seed, pub, this.file(cluster, secretName, key), this.file(CSC, cscName, 'pubkey'));
    } else if (isCopy(cluster, secretName, key, info)) {
      const sourceSecret = info.origin.slice(cluster.length + 1);
      const source = this.readSeed(cluster, sourceSecret);
      if (!source.sameKeyAs(seed)) {
        throw problem({
          where: this.file(cluster, secretName, key),
          problem: `differs from ${this.file(cluster, sourceSecret, 'seed')}; it must be an exact copy of it`,
          fix: 'copy the source file over it (or restore both from the same backup)',
        });
      }
    } else {
      const pub = this.parsePublicKey(cluster, secretName, 'pubkey', info.kind, false);
      if (pub) this.checkDerives(seed, pub, this.file(cluster, secretName, key), this.file(cluster, secretName, 'pubkey'));
    }
    this.cache.set(id, seed);
    return seed;
  }

  public readPublicKey(cluster: string, secretName: string, key: string = 'pubkey'): NKeyPublicKey {
    const info = expectForm(cluster, secretName, key, 'pubkey');
    const id = `${cluster}/${secretName}/${key}`;
    const cached = this.cache.get(id);
    if (cached) return cached as NKeyPublicKey;
    const pub = this.parsePublicKey(cluster, secretName, key, info.kind, true)!;
    if (info.leaf) {
      // CSC side of a leaf pair: the CPC side, if in this root, must derive it.
      const cpc = cpcCluster(info.leaf.cpcId);
      const cpcName = cpcLeafSecretName(info.leaf.accountToken);
      const seed = this.parseSeed(cpc, cpcName, 'seed', NKeyKind.USER, false);
      if (seed) this.checkDerives(seed, pub, this.file(cpc, cpcName, 'seed'), this.file(cluster, secretName, key));
    } else {
      const seed = this.parseSeed(cluster, secretName, 'seed', info.kind, false);
      if (seed) this.checkDerives(seed, pub, this.file(cluster, secretName, 'seed'), this.file(cluster, secretName, key));
    }
    this.cache.set(id, pub);
    return pub;
  }

  private file(cluster: string, secretName: string, key: string): string {
    return path.join(this.root, cluster, 'nkeys', secretName, key);
  }

  /**
   * The root as `nkeys --check` wants it, checked before the first read: a
   * folder of the user running us (or root) that no one else may write, so
   * no other user could have swapped the keys in it.
   */
  private checkRoot(): void {
    if (this.rootChecked) return;
    let st: fs.Stats;
    try {
      st = fs.statSync(this.root);
    } catch {
      return; // each read reports the missing file
    }
    if (!ownerTrusted(st)) {
      throw problem({ where: this.description, problem: `the key-store root belongs to ${describeOwner(st)}: that user could replace every key in it`, fix: 'use a key store of your own (dsx-event-bus nkeys -o <new folder>)' });
    }
    if (groupOrOthersMayWrite(st.mode)) {
      throw problem({ where: this.description, problem: `the key-store root has mode ${modeBits(st.mode).toString(8)}: others may write in it, so its keys could be anyone's`, fix: `chmod go-w ${this.root} (or chmod 700 it), then check its keys with dsx-event-bus nkeys --check -o ${this.root}` });
    }
    this.rootChecked = true;
  }

  /** The file's text; undefined when it does not exist and is optional. */
  private text(file: string, required: boolean): string | undefined {
    this.checkRoot();
    try {
      const text = readRegularFile(file, 'replace it with the regular file dsx-event-bus nkeys writes', {
        below: this.root, maxBytes: MAX_KEY_FILE_BYTES, what: 'a key file', ownFile: true,
      });
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT' });
      return text;
    } catch (e) {
      if (e instanceof EventBusError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !required) return undefined;
      throw problem({
        where: file,
        problem: code === 'ENOENT' ? 'the key file does not exist' : `cannot read the key file (${code === 'EACCES' ? 'permission denied' : (e as Error).message})`,
        fix: code === 'ENOENT'
          ? `create the keys with \`dsx-event-bus nkeys -o ${this.root} <cpc-ids>\`, or call generateMissing(request) first`
          : 'run as the user that owns the key store, or fix its permissions',
      });
    }
  }

  private parseSeed(cluster: string, secretName: string, key: string, kind: NKeyKind, required: boolean): NKeySeed | undefined {
    const file = this.file(cluster, secretName, key);
    const text = this.text(file, required);
    return text === undefined ? undefined : NKeySeed.parse(text, file, kind);
  }

  private parsePublicKey(cluster: string, secretName: string, key: string, kind: NKeyKind, required: boolean): NKeyPublicKey | undefined {
    const file = this.file(cluster, secretName, key);
    const text = this.text(file, required);
    return text === undefined ? undefined : NKeyPublicKey.parse(text, file, kind);
  }

  private checkDerives(seed: NKeySeed, pub: NKeyPublicKey, seedFile: string, pubFile: string): void {
    if (seed.publicKey.value !== pub.value) {
      throw problem({
        where: pubFile,
        problem: `does not match ${seedFile}: the file holds ${pub.value}, the seed derives ${seed.publicKey.value}`,
        fix: 'restore both files from the same backup; a pubkey must always be derived from its seed',
      });
    }
  }
}

function isCopy(cluster: string, secretName: string, key: string, info: KeyFileInfo): boolean {
  return key !== 'seed' || info.origin !== `${cluster}/${secretName}`;
}
