/**
 * Rotations and revocations kept in the key store, beside the layout of the
 * upstream `generate-nkeys.sh` and out of its sight: everything lives under
 * `<root>/.dsx-event-bus.state/` (the script and `dsx-event-bus nkeys` only
 * look at `csc/`, `cpc-<id>/` and their `nkeys/` trees), so the script reads
 * the store during and after a rotation, and at every stage the layout holds
 * one consistent pair per key.
 *
 * ```
 * .dsx-event-bus.state/                 700
 * ├── state.json                        rotations in progress, revoked CPCs, the step being applied
 * ├── rotations/<target>/next/…         the new pair, <cluster>/<secret>/<key> (from overlap on)
 * ├── rotations/<target>/previous/…     the replaced pair (from switched on)
 * └── archive/<time>-<target>/          finished rotations (previous/ + rotation.json with the dates),
 *                                       revoked CPCs (cpc-<id>/, csc/nkeys/nats-leaf-…-cpc-<id>/, revoked.json)
 * ```
 *
 * Crash safety: a step that changes more than one file is recorded in
 * `state.json` (`pending`, public keys and paths only) before its first
 * write and applied with idempotent operations (atomic writes, renames of
 * folders that are skipped once done); the next rotate or revoke under the
 * store lock completes it, and until then every read path refuses the store
 * with the command that completes it.
 *
 * Internal to the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { problem, quote } from '../../errors';
import { fsyncDir, SECRET_DIR_MODE, SECRET_FILE_MODE, writeFileAtomic, writeTreeAtomic } from '../../files/atomic-write';
import { StoreLock } from '../../files/lock';
import { errnoOf, lstatOrUndefined, mkdirpOwn, readRegularFile } from '../../files/safe-fs';
import { BASE_SECRETS, CSC, cpcCluster, cpcIdOfCluster, cpcLeafSecretName, cscLeafSecretName } from '../layout';
import { NKeyKind, NKeySeed } from '../nkey';
import { AcceptedRotationKey, CLUSTER_KEY_ENTRY, CLUSTER_KEY_SECRETS, RevokedCpc, RotatableClusterKey, RotationStage, RotationStatus, RotationTarget } from '../rotation';

/** The state folder at the key-store root. */
export const STATE_DIR = '.dsx-event-bus.state';
const STATE_FILE = 'state.json';
const LOCK_TIMEOUT_MS = 60_000;

interface FileRecord {
  readonly cluster: string;
  readonly secretName: string;
  readonly key: string;
  readonly form: 'seed' | 'pubkey';
}

interface PairRecord {
  /** The chart-generated auth-callout entry accepting this pair. */
  readonly entry: string;
  readonly accountToken?: string;
  readonly oldPublicKey: string;
  readonly newPublicKey: string;
  readonly files: readonly FileRecord[];
}

interface RotationRecord {
  readonly target: string;
  stage: RotationStage;
  readonly started: string;
  stageSince: string;
  readonly pairs: readonly PairRecord[];
}

type Pending =
  | { readonly op: 'switch'; readonly target: string }
  | { readonly op: 'finish'; readonly target: string; readonly archive: string; readonly finished: string }
  | { readonly op: 'revoke'; readonly cpcId: string; readonly archive: string; readonly revoked: string; readonly moves: ReadonlyArray<readonly [string, string]> };

interface State {
  readonly version: 1;
  rotations: RotationRecord[];
  revoked: RevokedCpc[];
  pending?: Pending;
}

/** How the store reads and verifies the layout's current files (the DirectoryKeyStore's reads). */
export interface LayoutReader {
  /** The verified text of a file of the layout (a seed or a public key). */
  read(file: FileRecord): string;
}

const slug = (target: string) => target.replace('/', '.');

/** The rotation and revocation state of one key-store root. */
export class RotationBook {
  constructor(private readonly root: string, private readonly display: string) {}

  private abs(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }

  /** The state on disk (empty when the folder does not exist). */
  public load(): State {
    const file = this.abs(STATE_DIR, STATE_FILE);
    const text = readRegularFile(file, `remove it only if no rotation is in progress (${STATE_DIR}/ is written by dsx-event-bus rotate and revoke)`);
    if (text === undefined) return { version: 1, rotations: [], revoked: [] };
    try {
      const state = JSON.parse(text) as State;
      if (state.version !== 1 || !Array.isArray(state.rotations) || !Array.isArray(state.revoked)) throw new Error('unexpected content');
      return state;
    } catch (e) {
      throw problem({ where: file, problem: `is not a rotation state this version can read (${(e as Error).message})`, fix: `restore it from a backup of ${this.display}` });
    }
  }

  private save(state: State): void {
    writeFileAtomic(this.abs(STATE_DIR, STATE_FILE), JSON.stringify(state, null, 2) + '\n', SECRET_FILE_MODE);
    fsyncDir(this.abs(STATE_DIR));
  }

  /**
   * Throws when a step was cut off (the layout may be half-way) or when
   * `cpcIds` names a revoked CPC: the read paths (ensure, nkeys) call it.
   */
  public checkUsable(cpcIds: readonly string[], where: string): void {
    let state: State;
    try {
      state = this.load();
    } catch (e) {
      // An unreadable root: the caller's own checks report it in their words.
      if (errnoOf(e) !== undefined) return;
      throw e;
    }
    if (state.pending) {
      throw problem({
        where,
        problem: `a ${state.pending.op} step of ${'target' in state.pending ? state.pending.target : `revoke ${state.pending.cpcId}`} was interrupted; the key store may be half-way`,
        fix: `complete it with \`dsx-event-bus rotate -s ${this.root} --status\` (any rotate or revoke run completes it first)`,
      });
    }
    for (const id of cpcIds) {
      const r = state.revoked.find((x) => x.cpcId === id);
      if (r) {
        throw problem({
          where,
          problem: `CPC ${quote(id)} was revoked on ${r.revoked} (its keys are archived in ${r.archive})`,
          fix: `remove CPC ${quote(id)} from the fleet; to use the id again with new keys, run \`dsx-event-bus revoke -s ${this.root} --reinstate ${id}\`, then generate its keys (\`dsx-event-bus nkeys -o ${this.root} ${id}\`)`,
        });
      }
    }
  }

  /** Runs `fn` under the store lock, after completing an interrupted step; returns notices. */
  private locked<T>(fn: (state: State, notices: string[]) => T): { result: T; notices: string[] } {
    if (!lstatOrUndefined(this.root)?.isDirectory()) {
      throw problem({ where: this.display, problem: 'the key store does not exist', fix: `create it with \`dsx-event-bus nkeys -o ${this.root} <cpc-ids>\`` });
    }
    mkdirpOwn(this.abs(STATE_DIR), SECRET_DIR_MODE);
    const lock = StoreLock.acquire(this.root, LOCK_TIMEOUT_MS);
    try {
      const state = this.load();
      const notices: string[] = [];
      if (state.pending) {
        notices.push(`Completing the interrupted ${state.pending.op} step of ${'target' in state.pending ? state.pending.target : `CPC ${state.pending.cpcId}`}.`);
        this.apply(state);
      }
      return { result: fn(state, notices), notices };
    } finally {
      lock.release();
    }
  }

  /** Applies `state.pending` (idempotent) and clears it. */
  private apply(state: State): void {
    const p = state.pending!;
    if (p.op === 'switch') {
      const rec = state.rotations.find((r) => r.target === p.target)!;
      const dir = this.abs(STATE_DIR, 'rotations', slug(rec.target));
      const previous = path.join(dir, 'previous');
      const files = rec.pairs.flatMap((pair) => pair.files);
      // The old pair is copied out before the layout changes (one atomic folder), so a rerun never copies a half-switched layout.
      if (!lstatOrUndefined(previous)) {
        const copies = Object.fromEntries(files.map((f) => [rel(f), this.text(this.layoutFile(f))]));
        writeTreeAtomic(previous, copies, { dirMode: SECRET_DIR_MODE, fileMode: SECRET_FILE_MODE });
      }
      for (const f of files) {
        const next = this.text(path.join(dir, 'next', rel(f)));
        const target = this.layoutFile(f);
        if (readRegularFile(target) !== next) {
          writeFileAtomic(target, next, SECRET_FILE_MODE);
          fsyncDir(path.dirname(target));
        }
      }
      rec.stage = RotationStage.SWITCHED;
      rec.stageSince = new Date().toISOString();
    } else if (p.op === 'finish') {
      const rec = state.rotations.find((r) => r.target === p.target)!;
      const dir = this.abs(STATE_DIR, 'rotations', slug(rec.target));
      const archive = this.abs(p.archive);
      if (lstatOrUndefined(dir)) {
        writeFileAtomic(path.join(dir, 'rotation.json'), JSON.stringify({ ...publicRecord(rec), finished: p.finished }, null, 2) + '\n', SECRET_FILE_MODE);
        // The live pair is in the layout: the archive keeps only the replaced one.
        fs.rmSync(path.join(dir, 'next'), { recursive: true, force: true });
        mkdirpOwn(path.dirname(archive), SECRET_DIR_MODE);
        fs.renameSync(dir, archive);
        fsyncDir(path.dirname(dir));
        fsyncDir(path.dirname(archive));
      }
      state.rotations = state.rotations.filter((r) => r !== rec);
    } else {
      const archive = this.abs(p.archive);
      mkdirpOwn(archive, SECRET_DIR_MODE);
      for (const [from, to] of p.moves) {
        const src = this.abs(from);
        const dst = path.join(archive, to);
        if (lstatOrUndefined(src) && !lstatOrUndefined(dst)) {
          mkdirpOwn(path.dirname(dst), SECRET_DIR_MODE);
          fs.renameSync(src, dst);
          fsyncDir(path.dirname(src));
          fsyncDir(path.dirname(dst));
        }
      }
      const record: RevokedCpc = { cpcId: p.cpcId, revoked: p.revoked, archive: p.archive };
      writeFileAtomic(path.join(archive, 'revoked.json'), JSON.stringify(record, null, 2) + '\n', SECRET_FILE_MODE);
      state.rotations = state.rotations.filter((r) => !concernsCpc(r.target, p.cpcId));
      if (!state.revoked.some((r) => r.cpcId === p.cpcId)) state.revoked.push(record);
    }
    state.pending = undefined;
    this.save(state);
  }

  /** Starts a rotation: generates and stores the new pair(s). */
  public start(target: RotationTarget, reader: LayoutReader): { status: RotationStatus; notices: string[] } {
    const { result, notices } = this.locked((state) => {
      this.refuseRevoked(state, target);
      const existing = state.rotations.find((r) => r.target === target.name);
      if (existing) {
        throw problem({
          where: target.name,
          problem: `a rotation is already in progress (stage ${existing.stage} since ${existing.stageSince})`,
          fix: `finish it first: \`dsx-event-bus rotate -s ${this.root} --advance ${target.name}\``,
        });
      }
      const pairs = this.pairsOf(target).map((p) => {
        const oldPublicKey = reader.read(p.files.find((f) => f.form === 'pubkey')!);
        // Every file of the pair must verify before anything is written.
        for (const f of p.files) reader.read(f);
        const { kind, ...rest } = p;
        const seed = NKeySeed.generate(kind ?? NKeyKind.USER);
        return { pair: { ...rest, oldPublicKey, newPublicKey: seed.publicKey.value }, seed };
      });
      const dir = this.abs(STATE_DIR, 'rotations', slug(target.name));
      // A folder without a record is what a run killed before saving the record left: ours to remove.
      fs.rmSync(dir, { recursive: true, force: true });
      const files: Record<string, string> = {};
      for (const { pair, seed } of pairs) {
        for (const f of pair.files) files[rel(f)] = f.form === 'seed' ? seed.reveal() : seed.publicKey.value;
      }
      writeTreeAtomic(path.join(dir, 'next'), files, { dirMode: SECRET_DIR_MODE, fileMode: SECRET_FILE_MODE });
      const now = new Date().toISOString();
      const rec: RotationRecord = {
        target: target.name, stage: RotationStage.OVERLAP, started: now, stageSince: now, pairs: pairs.map((p) => p.pair),
      };
      state.rotations.push(rec);
      this.save(state);
      return statusOf(rec);
    });
    return { status: result, notices };
  }

  /** Moves a rotation one stage on: overlap → switched, switched → done (archived). */
  public advance(target: RotationTarget): { status?: RotationStatus; archive?: string; notices: string[] } {
    const { result, notices } = this.locked((state) => {
      const rec = state.rotations.find((r) => r.target === target.name);
      if (!rec) {
        throw problem({
          where: target.name,
          problem: 'no rotation is in progress',
          allowed: state.rotations.length ? state.rotations.map((r) => r.target).join(', ') : 'none is in progress',
          fix: `start one with \`dsx-event-bus rotate -s ${this.root} --start ${target.name}\``,
        });
      }
      if (rec.stage === RotationStage.OVERLAP) {
        state.pending = { op: 'switch', target: rec.target };
        this.save(state);
        this.apply(state);
        return { status: statusOf(rec) };
      }
      const finished = new Date().toISOString();
      const archive = `${STATE_DIR}/archive/${finished.replace(/[:.]/g, '-')}-rotation-${slug(rec.target)}`;
      state.pending = { op: 'finish', target: rec.target, archive, finished };
      this.save(state);
      this.apply(state);
      return { archive };
    });
    return { ...result, notices };
  }

  /** Revokes a CPC: archives its keys (both sides) and records the revocation. */
  public revoke(cpcId: string): { record: RevokedCpc; notices: string[] } {
    const { result, notices } = this.locked((state) => {
      const already = state.revoked.find((r) => r.cpcId === cpcId);
      if (already) throw problem({ where: `CPC ${quote(cpcId)}`, problem: `was already revoked on ${already.revoked}`, fix: 'nothing to do' });
      const cscLeaves = this.cscLeafDirs(cpcId);
      const cpcDir = cpcCluster(cpcId);
      if (!lstatOrUndefined(this.abs(cpcDir)) && !cscLeaves.length) {
        throw problem({
          where: this.display,
          problem: `holds no keys of CPC ${quote(cpcId)} (neither ${cpcDir}/ nor csc/nkeys/nats-leaf-…-cpc-${cpcId}/)`,
          fix: 'check the id and the key-store directory',
        });
      }
      const revoked = new Date().toISOString();
      const archive = `${STATE_DIR}/archive/${revoked.replace(/[:.]/g, '-')}-revoked-${cpcDir}`;
      const moves: Array<readonly [string, string]> = [];
      if (lstatOrUndefined(this.abs(cpcDir))) moves.push([cpcDir, cpcDir]);
      for (const name of cscLeaves) moves.push([`${CSC}/nkeys/${name}`, `${CSC}/nkeys/${name}`]);
      for (const r of state.rotations.filter((x) => concernsCpc(x.target, cpcId))) {
        const from = `${STATE_DIR}/rotations/${slug(r.target)}`;
        if (lstatOrUndefined(this.abs(from))) moves.push([from, `rotation-${slug(r.target)}`]);
      }
      state.pending = { op: 'revoke', cpcId, archive, revoked, moves };
      this.save(state);
      this.apply(state);
      return state.revoked.find((r) => r.cpcId === cpcId)!;
    });
    return { record: result, notices };
  }

  /** Lifts a revocation: the id may be used again, with new keys (the old ones stay archived). */
  public reinstate(cpcId: string): { record: RevokedCpc; notices: string[] } {
    const { result, notices } = this.locked((state) => {
      const record = state.revoked.find((r) => r.cpcId === cpcId);
      if (!record) {
        throw problem({ where: `CPC ${quote(cpcId)}`, problem: 'is not revoked', allowed: state.revoked.map((r) => r.cpcId).join(', ') || 'no CPC is revoked', fix: 'name a revoked CPC' });
      }
      state.revoked = state.revoked.filter((r) => r !== record);
      this.save(state);
      return record;
    });
    return { record: result, notices };
  }

  /** Completes an interrupted step, if any; returns its notice. */
  public complete(): string[] {
    // Read-only when nothing was cut off: `rotate --status` takes no lock then.
    if (!this.load().pending) return [];
    return this.locked(() => undefined).notices;
  }

  /** The rotations in progress. */
  public statuses(): RotationStatus[] {
    return this.load().rotations.map(statusOf);
  }

  /** The revoked CPCs. */
  public revoked(): RevokedCpc[] {
    return this.load().revoked;
  }

  /** The keys `cluster` accepts beside the layout's because of rotations in progress. */
  public accepted(cluster: string): AcceptedRotationKey[] {
    const out: AcceptedRotationKey[] = [];
    for (const rec of this.load().rotations) {
      const t = RotationTarget.parse(rec.target);
      // Nothing accepts a second issuer or xkey: the issuer's stages change the layout only.
      if (t.acceptingCluster !== cluster || t.key === RotatableClusterKey.AUTH_CALLOUT_ISSUER) continue;
      for (const p of rec.pairs) {
        out.push({
          permissionName: `rotation-${p.entry}`,
          generatedEntry: p.entry,
          ...(p.accountToken ? { accountToken: p.accountToken } : {}),
          // The layout holds the old key until switched and the new one after: the other one is the extra.
          publicKey: rec.stage === RotationStage.OVERLAP ? p.newPublicKey : p.oldPublicKey,
        });
      }
    }
    return out;
  }

  private refuseRevoked(state: State, target: RotationTarget): void {
    const cpc = cpcIdOfCluster(target.presentingCluster);
    const r = cpc !== undefined ? state.revoked.find((x) => x.cpcId === cpc) : undefined;
    if (r) throw problem({ where: target.name, problem: `CPC ${quote(cpc)} was revoked on ${r.revoked}`, fix: 'a revoked CPC has no keys to rotate' });
  }

  /** The CSC-side leaf folders of a CPC (`nats-leaf[-<token>]-cpc-<id>`), sorted. */
  private cscLeafDirs(cpcId: string): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.abs(CSC, 'nkeys'));
    } catch {
      return [];
    }
    const re = new RegExp(`^nats-leaf-(?:[a-z0-9]+-)?cpc-${cpcId}$`);
    return names.filter((n) => re.test(n) && n === cscLeafSecretName(cpcId, /^nats-leaf-(?:([a-z0-9]+)-)?cpc-/.exec(n)?.[1])).sort();
  }

  private pairsOf(target: RotationTarget): Array<Omit<PairRecord, 'oldPublicKey' | 'newPublicKey'> & { readonly kind?: NKeyKind }> {
    if (target.cpcId !== undefined) {
      const cpcId = target.cpcId;
      const dirs = this.cscLeafDirs(cpcId);
      if (!dirs.length) {
        throw problem({ where: target.name, problem: `the key store holds no leaf pair of CPC ${quote(cpcId)} (csc/nkeys/nats-leaf-cpc-${cpcId}/ is missing)`, fix: `generate it first with \`dsx-event-bus nkeys -o ${this.root} ${cpcId}\`` });
      }
      return dirs.map((name) => {
        const token = /^nats-leaf-(?:([a-z0-9]+)-)?cpc-/.exec(name)?.[1];
        return {
          entry: token ? `leaf-${token}-cpc-${cpcId}` : `leaf-cpc-${cpcId}`,
          ...(token ? { accountToken: token } : {}),
          files: [
            { cluster: cpcCluster(cpcId), secretName: cpcLeafSecretName(token), key: 'seed', form: 'seed' as const },
            { cluster: CSC, secretName: cscLeafSecretName(cpcId, token), key: 'pubkey', form: 'pubkey' as const },
          ],
        };
      });
    }
    const issuer = target.key === RotatableClusterKey.AUTH_CALLOUT_ISSUER;
    return CLUSTER_KEY_SECRETS[target.key!].map((secretName) => {
      const spec = BASE_SECRETS.find((x) => x.secretName === secretName)!;
      const files: FileRecord[] = spec.files.map((f) => ({ cluster: target.cluster!, secretName, key: f.key, form: f.form }));
      // Every copy of the seed switches with it (the auth-callout-keys copies are what the service uses).
      for (const other of BASE_SECRETS.filter((x) => x !== spec)) {
        for (const f of other.files.filter((x) => x.copyOf === secretName)) {
          files.push({ cluster: target.cluster!, secretName: other.secretName, key: f.key, form: f.form });
        }
      }
      return { entry: issuer ? secretName : CLUSTER_KEY_ENTRY[target.key!], kind: spec.kind, files };
    });
  }

  private layoutFile(f: FileRecord): string {
    return this.abs(f.cluster, 'nkeys', f.secretName, f.key);
  }

  private text(file: string): string {
    const t = readRegularFile(file, `restore it from a backup of ${this.display}`);
    if (t === undefined) throw problem({ where: file, problem: 'is missing', fix: `restore it from a backup of ${this.display}` });
    return t;
  }
}

function rel(f: FileRecord): string {
  return `${f.cluster}/${f.secretName}/${f.key}`;
}

function concernsCpc(target: string, cpcId: string): boolean {
  return target === cpcCluster(cpcId) || target.startsWith(`${cpcCluster(cpcId)}/`);
}

function publicRecord(rec: RotationRecord) {
  return {
    target: rec.target,
    started: rec.started,
    switched: rec.stageSince,
    pairs: rec.pairs.map((p) => ({ entry: p.entry, oldPublicKey: p.oldPublicKey, newPublicKey: p.newPublicKey })),
  };
}

function statusOf(rec: RotationRecord): RotationStatus {
  const t = RotationTarget.parse(rec.target);
  const accepting = t.acceptingCluster;
  const presenting = t.presentingCluster;
  const leaf = t.cpcId !== undefined;
  const overlap = rec.stage === RotationStage.OVERLAP;
  const authUser = t.key === RotatableClusterKey.AUTH_CALLOUT_USER;
  const who = leaf ? `${presenting}'s NATS` : `the ${presenting} pods that present ${t.key} (${t.key === RotatableClusterKey.NACK ? 'NACK' : t.key === RotatableClusterKey.SURVEYOR ? 'Surveyor' : authUser ? 'the auth-callout' : 'nats-mtls'})`;
  const keys = {
    target: rec.target,
    stage: rec.stage,
    started: rec.started,
    stageSince: rec.stageSince,
    oldPublicKeys: rec.pairs.map((p) => p.oldPublicKey),
    newPublicKeys: rec.pairs.map((p) => p.newPublicKey),
  };
  if (t.key === RotatableClusterKey.AUTH_CALLOUT_ISSUER) {
    // One interrupting deploy (switched); overlap and done change no output.
    return {
      ...keys,
      deployOrder: overlap ? [] : [accepting],
      confirmBeforeNextStep: overlap
        ? `a maintenance window on ${accepting} has begun: the next step replaces the issuer and the xkey; from the moment ${accepting}'s nats restarts with them until its auth-callout runs with the matching seeds, no client, leaf or service can log in, and every connection to a restarted nats pod must log in again`
        : `${accepting}'s nats and auth-callout restarted together with the new keys, and every client and leaf is connected again`,
      nextStepChanges: overlap ? [accepting] : [],
    };
  }
  return {
    ...keys,
    // overlap changed the accepting side only; switched changed the presenting side (and, with
    // the same two keys accepted, the accepting side's Secret and extra entry swap places).
    deployOrder: overlap ? [accepting] : unique([presenting, accepting]),
    confirmBeforeNextStep: authUser
      // NATS accepts this user itself: its config lists both keys from overlap until done.
      ? (overlap
        ? `${accepting} is deployed and every nats (and nats-mtls) pod runs the new config: AUTHX users and auth_callout auth_users list the current and the new key`
        : `every ${accepting} nats pod restarted (its env holds the new public key, which done's config reads) and ${who} restarted with the new seed and reconnected`)
      : overlap
        ? `${accepting} is deployed and its auth-callout restarted: it accepts the current and the new key`
        : `${who} restarted with the new seed and ${leaf ? 'every leaf connection is up again' : 'reconnected'}`,
    nextStepChanges: overlap ? unique([presenting, accepting]) : [accepting],
  };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
