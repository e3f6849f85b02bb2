/**
 * The generation engine behind `dsx-event-bus nkeys` and
 * `DirectoryKeyStore.generateMissing` (and, read-only, `ensure`): the semantics of the upstream
 * `generate-nkeys.sh` (https://github.com/NVIDIA/dsx-exchange/blob/main/deploy/scripts/generate-nkeys.sh),
 * split into a read-only plan and an apply step.
 *
 * - {@link planKeyStore} reads and verifies every file it is responsible for
 *   (modes, key kinds, seed/pubkey derivations, copies, leaf pairs, strays,
 *   the journal of an interrupted run) and decides what to write. It never
 *   writes; fresh keys are generated here, in memory.
 * - {@link programOf} turns a plan without defects into ordered batches of
 *   file operations; `runBatches` (fsops.ts) runs them.
 *
 * Crash safety: a new cluster's base set is staged completely (every file
 * and directory fsynced) in `<cluster>/.nkeys.tmp-*` and renamed to
 * `<cluster>/nkeys` in one step, so no run leaves half a base set. Leaf
 * pairs are journaled (public keys only) before any leaf file is written;
 * every CPC seed is durable before the CSC public key of its pair appears,
 * so a run killed in between is completed by the next run instead of being
 * reported as inconsistent.
 *
 * Internal to the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Batch, Data, Op, STAGING_DIR, stagingPathFor } from './fsops';
import { EventBusError, problem } from '../../errors';
import { SECRET_DIR_MODE, SECRET_FILE_MODE, TEMP_FILE } from '../../files/atomic-write';
import { LOCK_DIR } from '../../files/lock';
import { describeOwner, groupOrOthersMayWrite, modeBits, ownerTrusted, readRegularFile } from '../../files/safe-fs';
import {
  BASE_SECRETS, CSC, cpcCluster, cpcIdOfCluster, cpcLeafSecretName, cscLeafSecretName, describeKeyFile, describeLeafPair,
  isCpcId, leafOrigin, LeafPairId,
} from '../layout';
import { NKeyKind, NKeyPublicKey, NKeySeed } from '../nkey';

/** An extra account of a request: its name as given and its secret-name token. */
export interface AccountRef {
  readonly name: string;
  readonly token: string;
}

/** What to generate or verify; ids and accounts are already validated. */
export interface NKeysRequest {
  readonly cpcIds: readonly string[];
  readonly accounts: readonly AccountRef[];
}

export enum PlanMode {
  /** `dsx-event-bus nkeys`, `generateMissing()`: plan what to write. */
  GENERATE = 'generate',
  /** `ensure()`: report what is missing, write nothing. */
  VERIFY = 'verify',
  /** `dsx-event-bus nkeys --check`: also check every cluster and leaf pair found in the root. */
  CHECK = 'check',
}

/**
 * A key-store file's text: never through a symlink, never opening a FIFO or
 * device (which would hang the run); a missing file throws ENOENT.
 */
function readNoFollow(file: string): string {
  const text = readRegularFile(file, 'remove it (this tool only creates regular files there) and rerun', { maxBytes: MAX_KEY_FILE_BYTES, what: 'a key-store file' });
  if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT', syscall: 'open', path: file });
  return text;
}

/** A key file holds one key (58 characters); anything much larger is not one, and is refused before it is read. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** The journal of leaf pairs being written: public keys only. */
export const JOURNAL = 'journal.json';

interface NewBaseSet {
  readonly cluster: string;
  readonly clusterDirExists: boolean;
  /** An existing cluster directory that is not 700 (the script's prepare_output_dir resets it). */
  readonly chmodClusterDir: boolean;
  /**
   * The content of each file (`<secret>/<key>` → value). Generated on first
   * use (when the files are written), so a plan that is not applied costs no
   * key derivation.
   */
  readonly content: () => ReadonlyMap<string, string>;
}

interface PairWrite {
  readonly pair: LeafPairId;
  /** Set for a new pair; absent when completing an interrupted one (seed already on disk). */
  readonly seed?: NKeySeed;
  readonly pubkey: string;
  readonly cpcDirExists: boolean;
  readonly cscDirExists: boolean;
}

/** Everything a run will change, in the order it is applied. */
export interface PlanWork {
  readonly rootExists: boolean;
  readonly chmodRoot: boolean;
  /** Temp files and staging directories left by killed runs (absolute paths). */
  readonly stale: ReadonlyArray<{ readonly path: string; readonly dir: boolean }>;
  readonly baseSets: readonly NewBaseSet[];
  readonly pairs: readonly PairWrite[];
  /** Absolute paths of stray leaf files (CSC-side seeds, CPC-side pubkeys). */
  readonly strays: readonly string[];
  /** Empty leaf directories of abandoned journaled pairs (absolute). */
  readonly emptyDirs: readonly string[];
  readonly journalExists: boolean;
}

/** The outcome of planning. */
export interface Plan {
  readonly root: string;
  readonly display: string;
  readonly mode: PlanMode;
  /** Progress lines, in the upstream script's order and wording. */
  readonly lines: readonly string[];
  /** Defects (one message each); a plan with defects must not be applied. */
  readonly defects: readonly string[];
  /** What is missing (VERIFY mode), as root-relative paths or descriptions. */
  readonly missing: readonly string[];
  readonly warnings: readonly string[];
  readonly work: PlanWork;
  /** Key files verified. */
  readonly verified: number;
}

interface Entry {
  readonly type: 'file' | 'dir' | 'other';
  readonly mode: number;
  readonly size: number;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException)?.code;

function describeFsError(e: unknown): string {
  const code = errno(e);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a path component is not a directory';
  return (e as Error).message ?? String(e);
}

/** One cluster's `nkeys` tree as found on disk. */
class ClusterTree {
  public readonly nkeys: 'absent' | 'dir' | 'unusable';
  /** Paths relative to `<cluster>/nkeys` (posix separators). */
  public readonly entries = new Map<string, Entry>();
  /** Root-relative paths of temp files and staging directories. */
  public readonly stale: Array<{ rel: string; dir: boolean }> = [];
  public readonly clusterDirExists: boolean;
  public readonly clusterDirMode: number;
  /** Folders and files of another user (shown paths with their owner). */
  public readonly foreign: string[] = [];

  constructor(private readonly plan: Planner, public readonly cluster: string) {
    const clusterDir = plan.abs(cluster);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(clusterDir);
    } catch (e) {
      if (errno(e) !== 'ENOENT') plan.fsDefect(cluster, e);
    }
    this.clusterDirExists = !!st?.isDirectory();
    this.clusterDirMode = st ? modeBits(st.mode) : SECRET_DIR_MODE;
    if (st && !st.isDirectory()) {
      plan.defect(problem({ where: plan.show(cluster), problem: 'is not a directory', fix: 'move it away; a cluster directory holds nkeys/' }).message);
      this.nkeys = 'unusable';
      return;
    }
    if (!st) {
      this.nkeys = 'absent';
      return;
    }
    try {
      for (const name of fs.readdirSync(clusterDir)) {
        if (STAGING_DIR.test(name)) this.stale.push({ rel: `${cluster}/${name}`, dir: true });
      }
    } catch (e) {
      plan.fsDefect(cluster, e);
      this.nkeys = 'unusable';
      return;
    }
    let nk: fs.Stats;
    try {
      nk = fs.lstatSync(path.join(clusterDir, 'nkeys'));
    } catch (e) {
      if (errno(e) !== 'ENOENT') plan.fsDefect(`${cluster}/nkeys`, e);
      this.nkeys = errno(e) === 'ENOENT' ? 'absent' : 'unusable';
      return;
    }
    if (!nk.isDirectory()) {
      plan.defect(problem({ where: plan.show(`${cluster}/nkeys`), problem: 'is not a directory', fix: 'move it away and rerun' }).message);
      this.nkeys = 'unusable';
      return;
    }
    this.entries.set('', { type: 'dir', mode: modeBits(nk.mode), size: 0 });
    if (!ownerTrusted(nk)) this.foreign.push(`${plan.show(`${cluster}/nkeys`)} (${describeOwner(nk)})`);
    if (!ownerTrusted(st)) this.foreign.push(`${plan.show(cluster)} (${describeOwner(st)})`);
    this.nkeys = this.walk('') ? 'dir' : 'unusable';
  }

  private walk(rel: string): boolean {
    const dirRel = rel ? `${this.cluster}/nkeys/${rel}` : `${this.cluster}/nkeys`;
    let names: string[];
    try {
      names = fs.readdirSync(this.plan.abs(dirRel)).sort();
    } catch (e) {
      this.plan.fsDefect(dirRel, e);
      return false;
    }
    for (const name of names) {
      const childRel = rel ? `${rel}/${name}` : name;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(this.plan.abs(`${this.cluster}/nkeys/${childRel}`));
      } catch (e) {
        this.plan.fsDefect(`${this.cluster}/nkeys/${childRel}`, e);
        return false;
      }
      if (st.isFile() && rel !== '' && TEMP_FILE.test(name)) {
        this.stale.push({ rel: `${this.cluster}/nkeys/${childRel}`, dir: false });
        continue;
      }
      const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
      this.entries.set(childRel, { type, mode: modeBits(st.mode), size: st.size });
      if (!ownerTrusted(st)) this.foreign.push(`${this.plan.show(`${this.cluster}/nkeys/${childRel}`)} (${describeOwner(st)})`);
      if (type === 'dir' && !this.walk(childRel)) return false;
    }
    return true;
  }

  public has(secretName: string, key?: string): boolean {
    return this.entries.has(key === undefined ? secretName : `${secretName}/${key}`);
  }

  /** A non-empty regular file (the script's `[ -s file ]`). */
  public nonEmpty(secretName: string, key: string): boolean {
    const e = this.entries.get(`${secretName}/${key}`);
    return e?.type === 'file' && e.size > 0;
  }

  /** Mode audit of everything under nkeys (the script's two `find` checks). */
  public audit(): { files: string[]; dirs: string[] } {
    const files: string[] = [];
    const dirs: string[] = [];
    for (const [rel, e] of this.entries) {
      const show = this.plan.show(rel ? `${this.cluster}/nkeys/${rel}` : `${this.cluster}/nkeys`);
      if (e.type === 'file' && e.mode !== SECRET_FILE_MODE) files.push(show);
      if (e.type === 'dir' && e.mode !== SECRET_DIR_MODE) dirs.push(show);
    }
    return { files, dirs };
  }
}

interface Journal {
  readonly pairs: ReadonlyArray<{ readonly cpcId: string; readonly accountToken?: string; readonly pubkey: string }>;
}

/** A CPC id or an account's secret token. */
const TOKEN = /^[a-z0-9]+$/;

/** Reads and verifies a tree; builds the plan. */
class Planner {
  public readonly lines: string[] = [];
  public readonly defects: string[] = [];
  public readonly missing: string[] = [];
  public readonly warnings: string[] = [];
  private readonly trees = new Map<string, ClusterTree>();
  private readonly texts = new Map<string, string>();
  private verified = 0;

  private readonly baseSets: NewBaseSet[] = [];
  private readonly pairWrites: PairWrite[] = [];
  private readonly strays: string[] = [];
  private readonly emptyDirs: string[] = [];
  /** Extra-account names of the request by secret token, for the rerun commands in fixes. */
  private readonly accountNames = new Map<string, string>();
  private readonly stale: Array<{ path: string; dir: boolean }> = [];

  constructor(public readonly root: string, public readonly display: string, public readonly mode: PlanMode) {}

  public abs(rel: string): string {
    return rel ? path.join(this.root, ...rel.split('/')) : this.root;
  }

  /** A path for messages: the root as the user gave it, then the relative path (like `find` prints it). */
  public show(rel: string): string {
    return rel ? `${this.display.replace(/\/+$/, '')}/${rel}` : this.display;
  }

  public defect(message: string): void {
    this.defects.push(message);
  }

  public fsDefect(rel: string, e: unknown): void {
    this.defect(problem({
      where: this.show(rel),
      problem: `cannot read (${describeFsError(e)})`,
      fix: 'run as the user that owns the key store, or fix the permissions (directories 700, files 600)',
    }).message);
  }

  private tree(cluster: string): ClusterTree {
    let t = this.trees.get(cluster);
    if (!t) {
      t = new ClusterTree(this, cluster);
      this.trees.set(cluster, t);
      this.stale.push(...t.stale.map((s) => ({ path: this.abs(s.rel), dir: s.dir })));
    }
    return t;
  }

  private read(rel: string): string | undefined {
    let text = this.texts.get(rel);
    if (text === undefined) {
      try {
        text = readNoFollow(this.abs(rel));
      } catch (e) {
        this.fsDefect(rel, e);
        return undefined;
      }
      this.texts.set(rel, text);
    }
    return text;
  }

  private parseSeed(rel: string, kind: NKeyKind): NKeySeed | undefined {
    return this.parse(rel, (text, source) => NKeySeed.parse(text, source, kind));
  }

  private parsePublicKey(rel: string, kind: NKeyKind): NKeyPublicKey | undefined {
    return this.parse(rel, (text, source) => NKeyPublicKey.parse(text, source, kind));
  }

  /** A key file parsed and counted as verified; undefined (and a defect) when unreadable or invalid. */
  private parse<T>(rel: string, parser: (text: string, source: string) => T): T | undefined {
    const text = this.read(rel);
    if (text === undefined) return undefined;
    try {
      const key = parser(text, this.show(rel));
      this.verified++;
      return key;
    } catch (e) {
      this.defect((e as Error).message);
      return undefined;
    }
  }

  private mismatch(pubRel: string, seedRel: string, stored: NKeyPublicKey, seed: NKeySeed): string {
    return problem({
      where: this.show(pubRel),
      problem: `does not match ${this.show(seedRel)}: the file holds ${stored.value}, the seed derives ${seed.publicKey.value}`,
      fix: 'restore both files from the same backup; a pubkey must always be derived from its seed',
    }).message;
  }

  // -------------------------------------------------------------------------

  public run(request: NKeysRequest): Plan {
    let rootExists = false;
    let rootMode = SECRET_DIR_MODE;
    try {
      const st = fs.statSync(this.root);
      if (!st.isDirectory()) {
        this.defect(problem({ where: this.display, problem: 'the output root is not a directory', fix: 'choose a directory with -o' }).message);
        return this.finish(false, false, undefined);
      }
      rootExists = true;
      rootMode = modeBits(st.mode);
      if (!ownerTrusted(st)) {
        this.defect(problem({
          where: this.display,
          problem: `the key-store root belongs to ${describeOwner(st)}: that user could replace every key in it`,
          fix: 'use a key store of your own (dsx-event-bus nkeys -o <new folder>), or have root chown it to you after checking its keys',
        }).message);
      }
    } catch (e) {
      if (errno(e) !== 'ENOENT') {
        this.fsDefect('', e);
        return this.finish(false, false, undefined);
      }
    }
    if (rootExists) {
      try {
        fs.readdirSync(this.root);
      } catch (e) {
        this.fsDefect('', e);
        return this.finish(rootExists, false, undefined);
      }
    }
    if (!rootExists && this.mode === PlanMode.CHECK) {
      this.defect(problem({ where: this.display, problem: 'the output directory does not exist', fix: `run dsx-event-bus nkeys -o ${shellQuote(this.display)} first` }).message);
      return this.finish(false, false, undefined);
    }
    // The root may be the user's folder: it is never chmod-ed, only required
    // to keep others from renaming the key folders in it.
    // Reading (VERIFY: synth, export, the library) is as strict as --check:
    // keys in a root others may write could be anyone's.
    if (rootExists && groupOrOthersMayWrite(rootMode) && this.mode !== PlanMode.GENERATE) {
      this.defect(problem({
        where: this.display,
        problem: `the output root has mode ${rootMode.toString(8)}: others may write in it`,
        fix: `chmod go-w ${shellQuote(this.display)} (or chmod 700 it)`,
      }).message);
    }
    const journal = rootExists ? this.readJournal() : undefined;
    if (rootExists) this.staleInLockDir();

    // Clusters and pairs in scope: the request, plus (for --check) all found
    // on disk, plus pairs an interrupted run journaled.
    const cpcIds = [...request.cpcIds];
    const found = this.mode === PlanMode.CHECK && rootExists ? this.discoverCpcs() : [];
    for (const id of found) if (!cpcIds.includes(id)) cpcIds.push(id);

    this.cluster(CSC);
    const pairsDone = new Set<string>();
    const tokens = request.accounts.map((a) => a.token);
    for (const a of request.accounts) this.accountNames.set(a.token, a.name);
    for (const cpcId of cpcIds) {
      const cluster = cpcCluster(cpcId);
      this.cluster(cluster);
      const pairs: LeafPairId[] = request.cpcIds.includes(cpcId) ? [undefined, ...tokens].map((accountToken) => ({ cpcId, accountToken })) : [];
      if (this.mode === PlanMode.CHECK) {
        for (const p of this.discoverPairs(cpcId)) if (!pairs.some((q) => leafOrigin(q) === leafOrigin(p))) pairs.push(p);
      }
      for (const p of pairs) {
        pairsDone.add(leafOrigin(p));
        this.leafPair(p, request.cpcIds.includes(cpcId), journal);
      }
    }
    if (this.mode === PlanMode.CHECK) {
      // CSC-side leaf secrets of CPCs whose cluster directory is not in this root.
      for (const p of this.discoverCscOnlyPairs(cpcIds)) this.cscSideOnly(p);
    }
    // Pairs an interrupted run journaled but this run did not ask for.
    for (const j of journal?.pairs ?? []) {
      const p: LeafPairId = { cpcId: j.cpcId, accountToken: j.accountToken };
      if (pairsDone.has(leafOrigin(p))) continue;
      pairsDone.add(leafOrigin(p));
      if (!request.cpcIds.includes(p.cpcId) && this.tree(cpcCluster(p.cpcId)).nkeys !== 'dir') continue;
      this.leafPair(p, false, journal);
    }

    return this.finish(rootExists, false, journal);
  }

  private finish(rootExists: boolean, chmodRoot: boolean, journal: Journal | undefined): Plan {
    if (this.mode === PlanMode.CHECK) {
      for (const s of this.stale) this.warnings.push(`${this.showAbs(s.path)}: temporary ${s.dir ? 'directory' : 'file'} left by an interrupted run; the next dsx-event-bus nkeys run removes it`);
    }
    const work: PlanWork = {
      rootExists,
      chmodRoot,
      stale: this.stale,
      baseSets: this.baseSets,
      pairs: this.pairWrites,
      strays: this.strays,
      emptyDirs: this.emptyDirs,
      journalExists: journal !== undefined,
    };
    return {
      root: this.root,
      display: this.display,
      mode: this.mode,
      lines: this.lines,
      defects: this.defects,
      missing: this.missing,
      warnings: this.warnings,
      work,
      verified: this.verified,
    };
  }

  private showAbs(abs: string): string {
    return this.show(path.relative(this.root, abs).split(path.sep).join('/'));
  }

  private readJournal(): Journal | undefined {
    const rel = `${LOCK_DIR}/${JOURNAL}`;
    let text: string;
    try {
      text = readNoFollow(this.abs(rel));
    } catch (e) {
      if (errno(e) !== 'ENOENT') this.fsDefect(rel, e);
      return undefined;
    }
    try {
      const j = JSON.parse(text) as Journal;
      if (!Array.isArray(j.pairs)) throw new Error('no pairs');
      for (const p of j.pairs) {
        // The ids become paths: accept only what the naming rules allow.
        if (!TOKEN.test(p.cpcId) || (p.accountToken !== undefined && !TOKEN.test(p.accountToken))) throw new Error('bad id');
        NKeyPublicKey.parse(p.pubkey, this.show(rel), NKeyKind.USER);
      }
      return j;
    } catch {
      this.warnings.push(`${this.show(rel)}: unreadable journal ignored (it only helps complete an interrupted run)`);
      return { pairs: [] };
    }
  }

  /** Temp files of the journal left by a killed run. */
  private staleInLockDir(): void {
    try {
      for (const name of fs.readdirSync(this.abs(LOCK_DIR))) {
        if (TEMP_FILE.test(name)) this.stale.push({ path: this.abs(`${LOCK_DIR}/${name}`), dir: false });
      }
    } catch (e) {
      if (errno(e) !== 'ENOENT') this.fsDefect(LOCK_DIR, e);
    }
  }

  private discoverCpcs(): string[] {
    return fs.readdirSync(this.root).sort()
      .map(cpcIdOfCluster)
      .filter((id): id is string => isCpcId(id) && fs.lstatSync(this.abs(cpcCluster(id))).isDirectory());
  }

  private discoverPairs(cpcId: string): LeafPairId[] {
    const out: LeafPairId[] = [];
    const add = (p: LeafPairId | undefined) => {
      if (p && p.cpcId === cpcId && !out.some((q) => leafOrigin(q) === leafOrigin(p))) out.push(p);
    };
    for (const [rel, e] of this.tree(CSC).entries) {
      if (e.type === 'dir' && !rel.includes('/')) add(leafOf(CSC, rel, 'pubkey'));
    }
    for (const [rel, e] of this.tree(cpcCluster(cpcId)).entries) {
      if (e.type === 'dir' && !rel.includes('/')) add(leafOf(cpcCluster(cpcId), rel, 'seed'));
    }
    return out;
  }

  private discoverCscOnlyPairs(cpcIds: readonly string[]): LeafPairId[] {
    const out: LeafPairId[] = [];
    for (const [rel, e] of this.tree(CSC).entries) {
      const p = e.type === 'dir' && !rel.includes('/') ? leafOf(CSC, rel, 'pubkey') : undefined;
      if (p && !cpcIds.includes(p.cpcId)) out.push(p);
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // Base sets

  private cluster(cluster: string): void {
    const generate = this.mode === PlanMode.GENERATE;
    const t = this.tree(cluster);
    if (generate) {
      this.lines.push('', `=== ${cluster}: NKey secrets ===`, `Output directory: ${this.show(cluster)}`);
    }
    if (t.nkeys === 'unusable') return;
    if (t.nkeys === 'absent') {
      if (generate) {
        this.lines.push(`Generating secrets for ${cluster}...`);
        this.baseSets.push({
          cluster,
          clusterDirExists: t.clusterDirExists,
          chmodClusterDir: t.clusterDirExists && t.clusterDirMode !== SECRET_DIR_MODE,
          content: newBaseSet(),
        });
      } else if (this.mode === PlanMode.VERIFY) {
        this.missing.push(`${cluster}/nkeys/ (the whole base set of ${cluster})`);
      } else {
        this.defect(problem({
          where: this.show(`${cluster}/nkeys`),
          problem: `missing: ${cluster} has no key secrets`,
          fix: `run dsx-event-bus nkeys -o ${shellQuote(this.display)}${cluster === CSC ? '' : ` ${cpcIdOfCluster(cluster)}`}`,
        }).message);
      }
      return;
    }
    if (generate) this.lines.push(`Secrets already exist for ${cluster}; leaving them unchanged.`);
    this.verifyBaseSet(t);
    const { files, dirs } = t.audit();
    if (files.length) this.defect(['generated secret files must be mode 600:', ...files, 'Fix: chmod 600 each file listed, then rerun.'].join('\n'));
    if (dirs.length) this.defect(['generated secret directories must be mode 700:', ...dirs, 'Fix: chmod 700 each directory listed, then rerun.'].join('\n'));
    if (t.foreign.length) {
      this.defect([
        'key material must belong to you (or root); these belong to another user, who could have put their own keys there:',
        ...t.foreign,
        'Fix: check where they came from; remove them and regenerate with dsx-event-bus nkeys (or restore them from your backup), then rerun.',
      ].join('\n'));
    }
  }

  private verifyBaseSet(t: ClusterTree): void {
    const seeds = new Map<string, NKeySeed>();
    const missing: string[] = [];
    for (const spec of BASE_SECRETS) {
      for (const f of spec.files) {
        const rel = `${t.cluster}/nkeys/${spec.secretName}/${f.key}`;
        const entry = t.entries.get(`${spec.secretName}/${f.key}`);
        if (!entry) {
          missing.push(this.show(rel));
          continue;
        }
        if (entry.type !== 'file') {
          this.defect(problem({ where: this.show(rel), problem: 'is not a regular file', fix: 'restore the key file from a backup' }).message);
          continue;
        }
        const info = describeKeyFile(t.cluster, spec.secretName, f.key);
        if (f.form === 'seed') {
          const seed = this.parseSeed(rel, info.kind);
          if (!seed) continue;
          if (f.copyOf) {
            const source = seeds.get(f.copyOf);
            const sourceRel = `${t.cluster}/nkeys/${f.copyOf}/seed`;
            if (source && !source.sameKeyAs(seed)) {
              this.defect(problem({
                where: this.show(rel),
                problem: `differs from ${this.show(sourceRel)}; it must be an exact copy of it`,
                fix: `copy ${this.show(sourceRel)} over it (or restore both from the same backup)`,
              }).message);
            }
          } else {
            seeds.set(spec.secretName, seed);
          }
        } else {
          const pub = this.parsePublicKey(rel, info.kind);
          const seed = seeds.get(spec.secretName);
          if (pub && seed && seed.publicKey.value !== pub.value) {
            this.defect(this.mismatch(rel, `${t.cluster}/nkeys/${spec.secretName}/seed`, pub, seed));
          }
        }
      }
    }
    if (missing.length) {
      this.defect(problem({
        where: this.show(`${t.cluster}/nkeys`),
        problem: `the base set of ${t.cluster} is incomplete; missing: ${missing.join(', ')}`,
        fix: `restore the missing files from a backup of ${t.cluster}/nkeys. Keys that exist are never regenerated; to start ${t.cluster} over with new keys, move ${this.show(`${t.cluster}/nkeys`)} away, rerun, and redeploy ${t.cluster}`,
      }).message);
    }
  }

  // -------------------------------------------------------------------------
  // Leaf pairs (as generate-nkeys.sh writes them)

  private leafPair(p: LeafPairId, requested: boolean, journal: Journal | undefined): void {
    const generate = this.mode === PlanMode.GENERATE;
    const name = describeLeafPair(p);
    const cscName = cscLeafSecretName(p.cpcId, p.accountToken);
    const cpcName = cpcLeafSecretName(p.accountToken);
    const cpcClusterName = cpcCluster(p.cpcId);
    const cscRel = `${CSC}/nkeys/${cscName}/pubkey`;
    const cpcRel = `${cpcClusterName}/nkeys/${cpcName}/seed`;
    const csc = this.tree(CSC);
    const cpc = this.tree(cpcClusterName);
    if (generate) this.lines.push('', `=== ${name}: CSC leaf secret ===`);
    if (csc.nkeys === 'unusable' || cpc.nkeys === 'unusable') return;

    const cscHas = csc.nonEmpty(cscName, 'pubkey');
    const cpcHas = cpc.nonEmpty(cpcName, 'seed');
    const cscStarted = csc.has(cscName);
    const cpcStarted = cpc.has(cpcName);
    const journaled = journal?.pairs.find((j) => j.cpcId === p.cpcId && (j.accountToken ?? undefined) === p.accountToken);
    // A secret directory holding nothing (temp files do not count), or none at all.
    const holdsNothing = (t: ClusterTree, secretName: string) =>
      ![...t.entries.keys()].some((k) => k.startsWith(`${secretName}/`));

    // An interrupted run of ours: complete it rather than call it inconsistent.
    if (journaled && !cscHas) {
      if (!cpcHas && holdsNothing(csc, cscName) && holdsNothing(cpc, cpcName)) {
        // Nothing durable was written for this pair.
        if (requested) {
          this.newPair(p, name, cpcStarted, cscStarted);
        } else if (generate) {
          if (cpcStarted) this.emptyDirs.push(this.abs(`${cpcClusterName}/nkeys/${cpcName}`));
          if (cscStarted) this.emptyDirs.push(this.abs(`${CSC}/nkeys/${cscName}`));
          this.lines.push(`Removing the empty leaf secret directories an interrupted run left for ${name}.`);
        } else if (cpcStarted || cscStarted) {
          this.interrupted(p, name);
        }
        return;
      }
      if (cpcHas && holdsNothing(csc, cscName)) {
        const seed = this.parseSeed(cpcRel, NKeyKind.USER);
        if (seed && seed.publicKey.value === journaled.pubkey) {
          if (generate) {
            this.lines.push(`Completing the leaf secret an interrupted run started for ${name}...`);
            this.pairWrites.push({ pair: p, pubkey: seed.publicKey.value, cpcDirExists: true, cscDirExists: cscStarted });
          } else {
            this.interrupted(p, name);
          }
          return;
        }
        if (!seed) return;
      }
    }

    if (cscHas && cpcHas) {
      const pub = this.parsePublicKey(cscRel, NKeyKind.USER);
      const seed = this.parseSeed(cpcRel, NKeyKind.USER);
      if (pub && seed && seed.publicKey.value !== pub.value) {
        this.defect(problem({
          problem: `mismatched leaf secret output for ${name}: ${this.show(cpcRel)} derives ${seed.publicKey.value}, but ${this.show(cscRel)} holds ${pub.value}`,
          fix: `restore both files from the same backup, or remove both secret directories (${this.show(`${CSC}/nkeys/${cscName}`)} and ${this.show(`${cpcClusterName}/nkeys/${cpcName}`)}) and rerun to create a new pair, then redeploy both clusters`,
        }).message);
        return;
      }
      if (!pub || !seed) return;
      if (generate) this.lines.push(`Leaf secrets already exist for ${name}; leaving them unchanged.`);
      this.strayFiles(p, name, cscName, cpcName);
      return;
    }
    if (!cscHas && !cpcHas && !cscStarted && !cpcStarted) {
      if (!requested) return;
      if (generate) {
        this.newPair(p, name, false, false);
      } else if (this.mode === PlanMode.VERIFY) {
        this.missing.push(cpcRel, cscRel);
      } else {
        this.defect(problem({
          problem: `missing leaf secret output for ${name}: neither ${this.show(cscRel)} nor ${this.show(cpcRel)} exists`,
          fix: `run ${this.pairCommand(p)}`,
        }).message);
      }
      return;
    }
    if (!requested && !cpc.has('') && this.mode === PlanMode.CHECK) return; // CPC not in this root
    const state = (has: boolean, started: boolean, t: ClusterTree, secretName: string, key: string, rel: string) => {
      if (has) return `${this.show(rel)} exists`;
      if (t.entries.get(`${secretName}/${key}`)?.type === 'file') return `${this.show(rel)} is empty`;
      if (started) return `${this.show(path.posix.dirname(rel))} exists without ${key}`;
      return `${this.show(rel)} is missing`;
    };
    this.defect(problem({
      problem: `inconsistent leaf secret output for ${name}: ${state(cscHas, cscStarted, csc, cscName, 'pubkey', cscRel)}, ${state(cpcHas, cpcStarted, cpc, cpcName, 'seed', cpcRel)}`,
      fix: 'restore the missing side from a backup, or remove both secret directories and rerun to create a new pair (then redeploy both clusters)',
    }).message);
  }

  private interrupted(p: LeafPairId, name: string): void {
    const message = `leaf secret output for ${name} was left half-written by an interrupted run`;
    if (this.mode === PlanMode.VERIFY) {
      this.missing.push(`${cpcCluster(p.cpcId)}/nkeys/${cpcLeafSecretName(p.accountToken)}/seed + ${CSC}/nkeys/${cscLeafSecretName(p.cpcId, p.accountToken)}/pubkey (${message})`);
    } else {
      this.defect(problem({ problem: message, fix: `rerun ${this.pairCommand(p)} (it completes the pair)` }).message);
    }
  }

  /**
   * The `dsx-event-bus nkeys` command line that creates or completes one leaf
   * pair: its CPC id and, for an extra account, its `--extra-account` flag (a
   * pair found on disk but not requested is named by its token, which as an
   * account name yields the same files).
   */
  private pairCommand(p: LeafPairId): string {
    const accounts = p.accountToken === undefined ? [] : [{ name: this.accountNames.get(p.accountToken) ?? p.accountToken, token: p.accountToken }];
    return commandFor(this.display, { cpcIds: [p.cpcId], accounts });
  }

  private newPair(p: LeafPairId, name: string, cpcDirExists: boolean, cscDirExists: boolean): void {
    if (this.mode !== PlanMode.GENERATE) {
      this.interrupted(p, name);
      return;
    }
    this.lines.push(`Generating CSC leaf secret for ${name}...`);
    const seed = NKeySeed.generate(NKeyKind.USER);
    this.pairWrites.push({ pair: p, seed, pubkey: seed.publicKey.value, cpcDirExists, cscDirExists });
  }

  private strayFiles(p: LeafPairId, name: string, cscName: string, cpcName: string): void {
    const found = [
      this.tree(CSC).has(cscName, 'seed') ? `${CSC}/nkeys/${cscName}/seed` : undefined,
      this.tree(cpcCluster(p.cpcId)).has(cpcName, 'pubkey') ? `${cpcCluster(p.cpcId)}/nkeys/${cpcName}/pubkey` : undefined,
    ].filter((r): r is string => r !== undefined);
    for (const rel of found) {
      if (this.mode === PlanMode.GENERATE) {
        this.lines.push(`Removing stray ${rel.endsWith('/seed') ? 'seed' : 'pubkey'} ${this.show(rel)} (${rel.startsWith(CSC) ? 'the CSC side of a leaf pair keeps only the pubkey' : 'the CPC side of a leaf pair keeps only the seed'}).`);
        this.strays.push(this.abs(rel));
      } else {
        this.defect(problem({
          where: this.show(rel),
          problem: `stray ${rel.endsWith('/seed') ? 'seed' : 'pubkey'} in the leaf secret of ${name}: ${rel.startsWith(CSC) ? 'the CSC side keeps only the pubkey' : 'the CPC side keeps only the seed'}`,
          fix: `rerun dsx-event-bus nkeys -o ${shellQuote(this.display)} (it removes stray files), or delete the file`,
        }).message);
      }
    }
  }

  private cscSideOnly(p: LeafPairId): void {
    const cscName = cscLeafSecretName(p.cpcId, p.accountToken);
    const rel = `${CSC}/nkeys/${cscName}/pubkey`;
    if (this.tree(CSC).has(cscName, 'pubkey')) this.parsePublicKey(rel, NKeyKind.USER);
    if (this.tree(CSC).has(cscName, 'seed')) this.strayFiles(p, describeLeafPair(p), cscName, cpcLeafSecretName(p.accountToken));
  }
}

function leafOf(cluster: string, secretName: string, key: 'seed' | 'pubkey'): LeafPairId | undefined {
  try {
    return describeKeyFile(cluster, secretName, key).leaf;
  } catch {
    return undefined;
  }
}

/** A fresh base set (generated on first call): every file of BASE_SECRETS, copies repeating their source seed. */
function newBaseSet(): () => ReadonlyMap<string, string> {
  let content: Map<string, string> | undefined;
  return () => {
    if (!content) {
      content = new Map();
      const seeds = new Map<string, NKeySeed>();
      for (const spec of BASE_SECRETS) {
        if (spec.files.some((f) => f.key === 'seed')) seeds.set(spec.secretName, NKeySeed.generate(spec.kind));
      }
      for (const spec of BASE_SECRETS) {
        for (const f of spec.files) {
          const seed = seeds.get(f.copyOf ?? spec.secretName)!;
          content.set(`${spec.secretName}/${f.key}`, f.form === 'seed' ? seed.reveal() : seed.publicKey.value);
        }
      }
    }
    return content;
  };
}

/** Quotes a path for a shell command line, only when needed. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.,:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, '\'\\\'\'')}'`;
}

/** The `dsx-event-bus nkeys` command line that creates what a request needs. */
export function commandFor(display: string, request: NKeysRequest): string {
  return ['dsx-event-bus nkeys -o', shellQuote(display), ...request.accounts.map((a) => `--extra-account ${shellQuote(a.name)}`), ...request.cpcIds].join(' ');
}

/** Reads and verifies the tree under `root`; decides what a run writes. Never writes. */
export function planKeyStore(root: string, display: string, request: NKeysRequest, mode: PlanMode): Plan {
  return new Planner(path.resolve(root), display, mode).run(request);
}

/** One side of a leaf pair to write. */
interface LeafFile {
  readonly cluster: string;
  readonly secretName: string;
  readonly key: string;
  readonly data: Data;
  readonly dirExists: boolean;
}

/**
 * The ordered file operations that apply a plan (see the module comment for
 * why this order is crash-safe). The caller holds the lock.
 */
export function programOf(plan: Plan, lockDir: string): Batch[] {
  const w = plan.work;
  const root = plan.root;
  const batches: Batch[] = [];
  const add = (name: string, ops: Op[]) => {
    if (ops.length) batches.push({ name, ops });
  };
  const dirsOf = (paths: readonly string[]): Op[] => [...new Set(paths.map((p) => path.dirname(p)))].map((p) => ({ op: 'fsync', path: p }));

  // 1. Leftovers of killed runs; the root back to 700.
  add('cleanup', w.stale.map((s): Op => (s.dir ? { op: 'rmrf', path: s.path } : { op: 'unlink', path: s.path })));
  add('cleanup-sync', dirsOf(w.stale.map((s) => s.path)));
  if (w.chmodRoot) add('chmod-root', [{ op: 'chmod', path: root, mode: SECRET_DIR_MODE }]);

  // 2. The journal of the leaf pairs (public keys only), before any leaf file.
  const journal = path.join(lockDir, JOURNAL);
  if (w.pairs.length) {
    const entries = w.pairs.map((p) => ({
      cpcId: p.pair.cpcId,
      ...(p.pair.accountToken ? { accountToken: p.pair.accountToken } : {}),
      pubkey: p.pubkey,
    }));
    const data = JSON.stringify({ pairs: entries }, null, 1) + '\n';
    add('journal', [{ op: 'seq', ops: [{ op: 'replace', path: journal, data }, { op: 'fsync', path: lockDir }] }]);
  }

  // Leaf files by side. A side whose cluster is new is written inside that
  // cluster's staged base set; otherwise into the existing nkeys directory.
  const fresh = new Map(w.baseSets.map((b) => [b.cluster, { ...b, staging: stagingPathFor(path.join(root, b.cluster)) }]));
  const leafFiles: LeafFile[] = [];
  for (const p of w.pairs) {
    if (p.seed) {
      const seed = p.seed;
      leafFiles.push({ cluster: cpcCluster(p.pair.cpcId), secretName: cpcLeafSecretName(p.pair.accountToken), key: 'seed', data: () => seed.reveal(), dirExists: p.cpcDirExists });
    }
    leafFiles.push({ cluster: CSC, secretName: cscLeafSecretName(p.pair.cpcId, p.pair.accountToken), key: 'pubkey', data: p.pubkey, dirExists: p.cscDirExists });
  }

  // 3. New base sets: each staged in full in <cluster>/.nkeys.tmp-*, every
  //    file and directory durable. Clusters are independent.
  // Phases rather than one chain per cluster: every directory first, then
  // every file, then the directories' fsyncs, so one durability barrier per
  // phase covers every cluster (see fsops.ts).
  const staged = [...fresh.values()].map((b) => {
    const secrets = new Map<string, Array<{ key: string; data: Data }>>();
    for (const spec of BASE_SECRETS) {
      secrets.set(spec.secretName, spec.files.map((f) => ({ key: f.key, data: () => b.content().get(`${spec.secretName}/${f.key}`)! })));
    }
    for (const f of leafFiles.filter((l) => l.cluster === b.cluster)) {
      secrets.set(f.secretName, [...secrets.get(f.secretName) ?? [], { key: f.key, data: f.data }]);
    }
    const dirs = [...secrets.keys()].map((n) => path.join(b.staging, n));
    const files = [...secrets].flatMap(([n, list]) => list.map((f) => ({ path: path.join(b.staging, n, f.key), data: f.data })));
    return { ...b, dirs, files };
  });
  add('stage-dirs', staged.flatMap((b): Op[] => [
    { op: 'mkdir', path: path.join(root, b.cluster), existingOk: true },
    ...(b.chmodClusterDir ? [{ op: 'chmod', path: path.join(root, b.cluster), mode: SECRET_DIR_MODE } as Op] : []),
    { op: 'mkdir', path: b.staging },
    ...b.dirs.map((d): Op => ({ op: 'mkdir', path: d })),
  ]));
  add('stage-files', staged.flatMap((b) => b.files.map((f): Op => ({ op: 'create', path: f.path, data: f.data }))));
  add('stage-sync', staged.flatMap((b) => [...b.dirs, b.staging].map((p): Op => ({ op: 'fsync', path: p }))));

  // 4. Each side goes live: every CPC first (new base sets renamed into
  //    place, or seeds added to existing ones), then the CSC. So a CPC seed
  //    is durable before the CSC public key of its pair appears.
  const goLive = (b: { cluster: string; staging: string }): Op => ({
    op: 'seq',
    ops: [
      { op: 'rename', from: b.staging, to: path.join(root, b.cluster, 'nkeys') },
      { op: 'fsync', path: path.join(root, b.cluster) },
    ],
  });
  const addLeafFile = (f: LeafFile): Op => {
    const nkeys = path.join(root, f.cluster, 'nkeys');
    const dir = path.join(nkeys, f.secretName);
    return {
      op: 'seq',
      ops: [
        ...(f.dirExists ? [] : [{ op: 'mkdir', path: dir } as Op]),
        { op: 'replace', path: path.join(dir, f.key), data: f.data },
        { op: 'fsync', path: dir },
        ...(f.dirExists ? [] : [{ op: 'fsync', path: nkeys } as Op]),
      ],
    };
  };
  const newClusterDir = (cluster: string) => fresh.has(cluster) && !fresh.get(cluster)!.clusterDirExists;
  const cpcs = [...fresh.values()].filter((b) => b.cluster !== CSC);
  add('cpc', [
    ...cpcs.map(goLive),
    ...leafFiles.filter((f) => f.cluster !== CSC && !fresh.has(f.cluster)).map(addLeafFile),
  ]);
  add('cpc-sync', cpcs.some((b) => newClusterDir(b.cluster)) ? [{ op: 'fsync', path: root }] : []);
  add('csc', fresh.has(CSC) ? [goLive(fresh.get(CSC)!)] : leafFiles.filter((f) => f.cluster === CSC).map(addLeafFile));
  add('csc-sync', newClusterDir(CSC) ? [{ op: 'fsync', path: root }] : []);

  // 4. Stray leaf files and empty directories of abandoned pairs.
  add('strays', [...w.strays.map((p): Op => ({ op: 'unlink', path: p })), ...w.emptyDirs.map((p): Op => ({ op: 'rmdir', path: p }))]);
  add('strays-sync', dirsOf([...w.strays, ...w.emptyDirs]));

  // 5. The journal has done its job.
  if (w.pairs.length || w.journalExists) {
    add('journal-done', [{ op: 'unlink', path: journal }]);
    add('journal-done-sync', [{ op: 'fsync', path: lockDir }]);
  }
  return batches;
}

/** Formats a plan's defects as one error (for `ensure`). */
export function defectsError(plan: Plan, where: string): Error {
  const n = plan.defects.length;
  return withList(problem({
    where,
    problem: `the key store has ${n === 1 ? 'a defect' : `${n} defects`} (listed below)`,
    fix: 'repair what is listed; nothing was written',
  }), plan.defects);
}

/** An error whose message ends with an indented list, one item per line. */
export function withList(error: Error, items: readonly string[]): Error {
  const d = (error as EventBusError).description;
  if (d) return problem({ ...d, details: [...(d.details ?? []), ...items] });
  return new EventBusError(`${error.message}\n${items.map((i) => `  - ${i.replace(/\n/g, '\n    ')}`).join('\n')}`);
}
