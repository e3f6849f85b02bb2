/**
 * All-or-nothing, exclusive writing of `synth`'s output root.
 *
 * Layout of an output root:
 *
 *     <root>/.dsx-event-bus-output.json   the record: every file synth wrote, per cluster folder, and its sha256;
 *                                         with renderOnlyChanged also each cluster's inputs digest
 *     <root>/.dsx-event-bus.lock/         the writer lock (see src/files/lock.ts); keeps two runs apart
 *     <root>/<cluster>/...                the output (csc/, cpc-<id>/)
 *
 * A run builds the complete new output in a staging folder inside the root
 * (`.dsx-event-bus-staging-XXXXXX/new/<cluster>`, same file system, so
 * renames are atomic), carrying over (hard links) every file of the old
 * cluster folders that is not in the record: synth deletes only what it
 * wrote. A cluster folder that already holds exactly its new files is left
 * untouched (same bytes, same mtimes), so a rerun with nothing changed writes
 * nothing and adding a CPC rewrites only the CSC's folder and the new one.
 * A cluster that comes with an inputs digest equal to the recorded one, and
 * whose files on disk still hold the recorded bytes, is kept without its
 * files even being rendered (see OutputCluster.inputs).
 * Only when the staging folder is complete and durable does the run
 * write the swap journal (`.dsx-event-bus-output.swap.json`), then, per
 * cluster folder, renames the old folder aside into the staging folder and
 * the new one in, renames the new record in, removes the journal and the
 * staging folder.
 *
 * Recovery rule (applied by the next run under the lock, before anything
 * else, and by {@link recoverOutput}):
 * - a swap journal exists: the staging folder named in it is complete, so the
 *   swap is rolled forward (every step is idempotent), giving the complete
 *   new output;
 * - no journal: any staging folder is an unfinished build and is removed,
 *   leaving the complete old output.
 * While a swap runs (milliseconds), a reader may find a cluster folder
 * missing, never a folder with a mix of old and new files: each cluster
 * folder is replaced by one rename.
 *
 * Internal to the package (not exported from the index).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import {
  fsyncDir, fsyncFile, PUBLIC_DIR_MODE, PUBLIC_FILE_MODE, SECRET_DIR_MODE, SECRET_FILE_MODE, syncFileSystem, TEMP_FILE, writeFileAtomic, writeNewFile,
} from './atomic-write';
import { LOCK_DIR, StoreLock } from './lock';
import { checkOutputRoot, describeType, errnoOf, modeBits, lstatOrUndefined, mkdirOwn, mkdirpOwn, readRegularFile } from './safe-fs';
import { StagingWriter } from './staging-writer';
import { EventBusError, problem } from '../errors';
import { containsChecksummedSeed } from '../redact';

/** The record of what synth wrote. */
export const RECORD_FILE = '.dsx-event-bus-output.json';
/** Present only while a swap is being made (see the recovery rule above). */
export const SWAP_JOURNAL = '.dsx-event-bus-output.swap.json';
const STAGING = /^\.dsx-event-bus-staging-[A-Za-z0-9]{6}$/;
// Cluster folders, and the GitOps engine's folder (EventBusFleetProps.gitops).
const CLUSTER = /^(csc|cpc-[a-z0-9]+|gitops)$/;
/** Longest file name most file systems accept (bytes). */
export const NAME_MAX = 255;
/** Longest path Linux accepts (bytes), with room for the staging prefix. */
const PATH_MAX = 4096;


/** One file of a cluster folder. */
export interface OutputFile {
  /** Path inside the cluster folder, `/`-separated (e.g. `manifests/Secret.dsx.x.k8s.yaml`). */
  readonly path: string;
  readonly content: string;
  /** Holds key material: mode 600 in a 700 folder. */
  readonly secret: boolean;
}

/** One cluster folder of the output. */
export interface OutputCluster {
  readonly name: string;
  /** Its files; may render when first read (see `inputs`). */
  readonly files: readonly OutputFile[];
  /**
   * A digest of every input of this cluster's files (see src/charts/app.ts):
   * when the record holds the same digest for this folder and the folder's
   * files still hold the recorded bytes (sha256), the folder is left as it
   * is and `files` is never read.
   * @default - no digest: the files are always read and compared
   */
  readonly inputs?: string;
}

/** What a write did. */
export interface OutputResult {
  /** false when the output already was exactly this (nothing was written). */
  readonly changed: boolean;
  /** Human-readable lines: removed files and folders, folders kept for the user's files. */
  readonly notices: string[];
  /** The clusters whose `inputs` matched the record: left as they were, their files never read. */
  readonly skipped: ReadonlyMap<string, number>;
}

interface RecordData {
  readonly tool: string;
  readonly version: 1;
  /** cluster -> path in the cluster folder -> sha256 of the content. */
  readonly clusters: { [cluster: string]: { [file: string]: string } };
  /**
   * cluster -> the `inputs` digest its files were rendered from (a function
   * of the inputs alone, so the record stays the same in every clone).
   */
  readonly inputs?: { [cluster: string]: string };
}

interface Journal {
  readonly version: 1;
  readonly staging: string;
  readonly replace: string[];
  readonly remove: string[];
}

/** Raised between steps when the user interrupted the run (Ctrl-C) before the swap. */
export class OutputInterrupted extends EventBusError {}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

function safeRel(rel: string): boolean {
  return rel.length > 0 && rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\0'));
}

function corrupt(file: string, why: string): Error {
  return problem({
    where: file,
    problem: `is not a record written by dsx-event-bus synth (${why})`,
    fix: 'restore it from version control, or move the output folder away and synthesize into a new one',
  });
}

/** A JSON file synth wrote (undefined when there is none); anything but JSON is refused as corrupt. */
function readOwnJson<T>(file: string): T | undefined {
  const text = readRegularFile(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw corrupt(file, 'not JSON');
  }
}

function readRecord(root: string): RecordData | undefined {
  const file = path.join(root, RECORD_FILE);
  const r = readOwnJson<RecordData>(file);
  if (r === undefined) return undefined;
  if (r?.version !== 1 || typeof r.clusters !== 'object' || r.clusters === null) throw corrupt(file, 'unknown version');
  for (const [c, files] of Object.entries(r.clusters)) {
    if (!CLUSTER.test(c) || typeof files !== 'object' || files === null) throw corrupt(file, `bad cluster ${JSON.stringify(c)}`);
    for (const [rel, hash] of Object.entries(files)) {
      if (!safeRel(rel) || typeof hash !== 'string') throw corrupt(file, `bad entry ${JSON.stringify(rel)}`);
    }
  }
  if (r.inputs !== undefined) {
    if (typeof r.inputs !== 'object' || r.inputs === null) throw corrupt(file, 'bad inputs');
    for (const [c, v] of Object.entries(r.inputs)) {
      if (!(c in r.clusters) || typeof v !== 'string') throw corrupt(file, `bad inputs of ${JSON.stringify(c)}`);
    }
  }
  return r;
}

function readJournal(root: string): Journal | undefined {
  const file = path.join(root, SWAP_JOURNAL);
  const j = readOwnJson<Journal>(file);
  if (j === undefined) return undefined;
  if (j?.version !== 1 || !STAGING.test(j.staging) || !Array.isArray(j.replace) || !Array.isArray(j.remove)
    || ![...j.replace, ...j.remove].every((c) => typeof c === 'string' && CLUSTER.test(c))) {
    throw corrupt(file, 'unknown format');
  }
  return j;
}

/** Entries of a folder tree (relative, `/`-separated), without following symlinks. */
function walk(dir: string, rel = ''): Array<{ rel: string; st: fs.Stats }> {
  const out: Array<{ rel: string; st: fs.Stats }> = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = fs.lstatSync(path.join(dir, name));
    out.push({ rel: r, st });
    if (st.isDirectory()) out.push(...walk(path.join(dir, name), r));
  }
  return out;
}

/** One file an earlier synth wrote, as it still is. */
export interface PreviousOutputFile {
  readonly cluster: string;
  readonly path: string;
  readonly content: string;
}

/**
 * The files of the output at `root` that synth recorded and that still hold
 * what it wrote (same sha256), among those `select` picks; read without the
 * lock and without following symlinks. A file missing, changed since, or
 * not a regular file is left out: callers use these only to keep what an
 * earlier run produced, so leaving one out costs a new value, never a wrong one.
 */
export function readPreviousOutput(root: string, select: (cluster: string, rel: string) => boolean): PreviousOutputFile[] {
  let record: RecordData | undefined;
  try {
    record = readRecord(root);
  } catch {
    return []; // the write reports a corrupt record itself
  }
  const out: PreviousOutputFile[] = [];
  // Only through real folders: a symlinked one is not followed (the write refuses it).
  const dirs = new Map<string, boolean>();
  const realDir = (p: string) => {
    let real = dirs.get(p);
    if (real === undefined) dirs.set(p, real = lstatOrUndefined(p)?.isDirectory() === true);
    return real;
  };
  for (const [cluster, files] of Object.entries(record?.clusters ?? {})) {
    for (const [rel, hash] of Object.entries(files)) {
      if (!select(cluster, rel)) continue;
      const parts = rel.split('/');
      const folders = [path.join(root, cluster), ...parts.slice(0, -1).map((_, i) => path.join(root, cluster, ...parts.slice(0, i + 1)))];
      if (!folders.every(realDir)) continue;
      let content: string | undefined;
      try {
        content = readRegularFile(path.join(root, cluster, ...parts));
      } catch {
        continue;
      }
      if (content !== undefined && sha256(content) === hash) out.push({ cluster, path: rel, content });
    }
  }
  return out;
}

/** A step of a run: 'stage' steps may be interrupted; 'swap' steps run to the end. */
export type Phase = 'stage' | 'swap';

/**
 * Rolls an interrupted swap forward (see the recovery rule) and removes
 * unfinished staging folders and temp files. The caller holds the lock.
 */
export function* recoverSteps(root: string, notices: string[]): Generator<Phase, void> {
  const journal = readJournal(root);
  if (journal) {
    notices.push(`completed the output swap of an interrupted run (${path.join(root, SWAP_JOURNAL)})`);
    yield* rollForward(root, journal);
  }
  for (const name of fs.readdirSync(root)) {
    const p = path.join(root, name);
    if (STAGING.test(name)) {
      const st = fs.lstatSync(p);
      if (st.isDirectory()) fs.rmSync(p, { recursive: true, force: true });
      else fs.unlinkSync(p);
      yield 'stage';
    } else if (TEMP_FILE.test(name) && (name.startsWith(`.${RECORD_FILE}.`) || name.startsWith(`.${SWAP_JOURNAL}.`))) {
      fs.rmSync(p, { force: true });
      yield 'stage';
    }
  }
}

function* rollForward(root: string, j: Journal): Generator<Phase, void> {
  const staging = path.join(root, j.staging);
  const aside = (c: string) => path.join(staging, 'old', c);
  for (const c of j.replace) {
    const fresh = path.join(staging, 'new', c);
    if (!lstatOrUndefined(fresh)) continue; // already in place
    if (lstatOrUndefined(path.join(root, c)) && !lstatOrUndefined(aside(c))) {
      fs.renameSync(path.join(root, c), aside(c));
      yield 'swap';
    }
    fs.renameSync(fresh, path.join(root, c));
    yield 'swap';
  }
  for (const c of j.remove) {
    if (lstatOrUndefined(path.join(root, c)) && !lstatOrUndefined(aside(c))) {
      fs.renameSync(path.join(root, c), aside(c));
      yield 'swap';
    }
  }
  const record = path.join(staging, RECORD_FILE);
  if (lstatOrUndefined(record)) {
    fs.renameSync(record, path.join(root, RECORD_FILE));
    yield 'swap';
  }
  fsyncDir(root);
  fs.rmSync(path.join(root, SWAP_JOURNAL), { force: true });
  fsyncDir(root);
  yield 'swap';
  fs.rmSync(staging, { recursive: true, force: true });
  yield 'swap';
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Every name is legal before anything is written (ENAMETOOLONG would stop a run half-way). */
function checkNames(root: string, clusters: readonly OutputCluster[]): void {
  const longestStaging = path.join(path.resolve(root), '.dsx-event-bus-staging-XXXXXX', 'new');
  for (const c of clusters) {
    for (const f of c.files) {
      const segments = f.path.split('/');
      const long = segments.find((s) => byteLength(s) > NAME_MAX);
      if (!safeRel(f.path) || long) {
        throw problem({
          where: path.join(root, c.name, f.path),
          problem: long ? `the file name is ${byteLength(long)} bytes long` : 'is not a legal output path',
          allowed: `file names of at most ${NAME_MAX} bytes`,
          fix: 'shorten the object\'s name; nothing was written',
        });
      }
      if (byteLength(path.join(longestStaging, c.name, f.path)) >= PATH_MAX) {
        throw problem({ where: path.join(root, c.name, f.path), problem: 'the path is too long for the file system', fix: 'choose a shorter output directory; nothing was written' });
      }
    }
  }
}

type FileHashes = { [file: string]: string };

/**
 * No seed in a world-readable file: every file that is not key material
 * (manifests other than Secrets, values files) is scanned before it is
 * staged, and a seed there (typed into a label value, an annotation,
 * `authCallout.jwks.audience`, …) is refused naming the file and the field,
 * never the seed.
 */
function refuseSeedsInPublicFiles(root: string, cluster: OutputCluster): void {
  for (const f of cluster.files) {
    if (f.secret || !containsChecksummedSeed(f.content)) continue;
    throw problem({
      where: path.join(root, cluster.name, f.path),
      problem: `${seedField(f.content)} holds an NKey seed, and this file is not a Secret: it would be written world-readable (mode 644)`,
      fix: 'remove the seed from the value you gave for that field (fleet file or props); if it is a real seed, treat it as exposed and generate a new key pair; nothing was written',
    });
  }
}

/** The YAML path of the first value or key holding a seed (e.g. `metadata.labels.team`), for the message. */
function seedField(content: string): string {
  let found: string | undefined;
  const visit = (node: unknown, at: string[]): void => {
    if (found !== undefined) return;
    if (typeof node === 'string') {
      if (containsChecksummedSeed(node)) found = at.join('.') || '(the document)';
    } else if (Array.isArray(node)) {
      node.forEach((v, i) => visit(v, [...at, String(i)]));
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (containsChecksummedSeed(k)) found = [...at, '(a key)'].join('.');
        visit(v, [...at, k]);
      }
    }
  };
  try {
    YAML.parseAllDocuments(content).forEach((d, i, all) => visit(d.toJS(), all.length > 1 ? [`document ${i + 1}`] : []));
  } catch {
    // not YAML: the file as a whole
  }
  return found === undefined ? 'a value' : `field ${found}`;
}

/** An output root without our record must be empty (but for our lock): synth cannot tell its files from the user's. */
function refuseForeign(root: string, options: { beforeLock?: boolean } = {}): void {
  const names = fs.readdirSync(root);
  // Before the lock, another synth may be writing this new root (its lock,
  // staging folder, swap journal, temp files and, once it has swapped, its
  // cluster folders and then its record): one listing that shows any sign of
  // a synth leaves the decision to the check under the lock, after the
  // recovery rule. (Looking for the record first and listing after would
  // race with a synth that finishes in between.)
  const transient = (n: string) => STAGING.test(n) || n === SWAP_JOURNAL
    || (TEMP_FILE.test(n) && (n.startsWith(`.${RECORD_FILE}.`) || n.startsWith(`.${SWAP_JOURNAL}.`)));
  if (options.beforeLock && names.some((n) => n === LOCK_DIR || n === RECORD_FILE || transient(n))) return;
  const foreign = names.filter((n) => n !== LOCK_DIR).sort();
  if (foreign.length) {
    throw problem({
      where: root,
      problem: `holds files synth did not write (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}) and no ${RECORD_FILE}, so synth cannot tell its own files from yours`,
      fix: 'choose an empty or new output directory (an output of an earlier dsx-event-bus version: delete it and synthesize again); nothing was written',
    });
  }
}

// Errors of the lazy rendering (a construct's, a key store's) are raised as
// they are, not as a failed write step.
const RENDER_ERRORS = new WeakSet<object>();

function* rendered(clusters: Iterable<OutputCluster>): Generator<OutputCluster> {
  const it = clusters[Symbol.iterator]();
  for (;;) {
    let r: IteratorResult<OutputCluster>;
    try {
      r = it.next();
    } catch (e) {
      if (e && typeof e === 'object') RENDER_ERRORS.add(e);
      throw e;
    }
    if (r.done) return;
    yield r.value;
  }
}

/** What a run does with one cluster folder. */
interface ClusterPlan {
  /** 'same': left exactly as it is; 'replace': rebuilt in the staging folder and swapped in; 'remove': renamed away. */
  readonly action: 'same' | 'replace' | 'remove';
  /** The entries carried over from the old folder (the user's). */
  readonly keep: Array<{ rel: string; st: fs.Stats }>;
  /** Its entry in the new record (undefined: it leaves the record). */
  readonly hashes?: FileHashes;
  readonly notices: string[];
  /** Generated files edited by hand since synth wrote them (named before the run replaces them). */
  readonly edited?: string[];
}

/**
 * Plans one cluster folder: `cluster` is its new content (undefined: the
 * cluster is no longer in the output), `ours` its entry in the old record.
 */
function planCluster(root: string, name: string, cluster: OutputCluster | undefined, ours: FileHashes | undefined): ClusterPlan {
  const newFiles = cluster ? Object.fromEntries(cluster.files.map((f) => [f.path, sha256(f.content)])) : undefined;
  const notices: string[] = [];
  const dir = path.join(root, name);
  const st = lstatOrUndefined(dir);
  if (st && !st.isDirectory()) {
    throw problem({
      where: dir,
      problem: st.isSymbolicLink() ? 'is a symbolic link; synth writes only into folders it created and never through a link' : `exists and is not a directory (it is ${describeType(st)})`,
      fix: 'remove it or move it away; nothing was written',
    });
  }
  if (st && !ours) {
    throw problem({ where: dir, problem: `exists but synth did not create it (it is not in ${path.join(root, RECORD_FILE)})`, fix: 'move the folder away (synth then creates it), or choose another output directory; nothing was written' });
  }
  if (st) {
    try {
      fs.accessSync(dir, fs.constants.W_OK);
      fs.accessSync(dir, fs.constants.X_OK);
    } catch (e) {
      throw problem({ where: dir, problem: `cannot write here (${errnoOf(e)}: permission denied)`, fix: 'make it writable for this user, or choose another output directory; nothing was written' });
    }
  }
  const entries = st ? walk(dir) : [];
  const user = entries.filter((e) => !(ours && e.rel in ours && !e.st.isDirectory()));
  // Folders that only hold our files are ours too; the user's are the rest.
  const userFiles = user.filter((e) => !e.st.isDirectory());
  const userDirs = user.filter((e) => e.st.isDirectory() && userFiles.some((f) => f.rel.startsWith(`${e.rel}/`)));
  const keep = [...userDirs, ...userFiles].sort((a, b) => a.rel.localeCompare(b.rel));
  const newDirs = new Set((newFiles ? Object.keys(newFiles) : []).flatMap((rel) => rel.split('/').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('/'))));
  for (const e of keep) {
    if (newFiles && e.rel in newFiles) {
      throw problem({ where: path.join(dir, e.rel), problem: 'synth would write this file, but it did not write the one that is there', fix: 'move it away (or rename it) and rerun; nothing was written' });
    }
    if (newDirs.has(e.rel) && !e.st.isDirectory()) {
      throw problem({ where: path.join(dir, e.rel), problem: `is ${describeType(e.st)} where synth writes a folder`, fix: 'move it away and rerun; nothing was written' });
    }
  }
  if (newFiles) {
    // A folder that already holds exactly these files, with their modes, stays as it is (same bytes, same mtimes).
    if (ours && sameFiles(dir, ours, newFiles, entries, cluster!.files)) return { action: 'same', keep, hashes: newFiles, notices };
    // A file of ours whose bytes no longer match the record was edited by
    // hand: it is named before it is replaced (the output is generated; the
    // fleet file is where a change belongs, and a rerun must restore it).
    const edited: string[] = [];
    for (const e of entries) {
      const recorded = ours?.[e.rel];
      if (recorded === undefined || !e.st.isFile()) continue;
      const text = readRegularFile(path.join(dir, e.rel), 'remove it; synth writes only regular files', { maxBytes: 256 * 1024 * 1024 });
      if (text !== undefined && sha256(text) !== recorded) {
        edited.push(`replacing ${path.join(dir, e.rel)}: it was edited by hand after synth wrote it (its sha256 differs from ${RECORD_FILE}); change what synth renders from (props or a fleet file) instead`);
      }
    }
    const modes = wrongModes(entries, cluster!.files);
    if (ours && modes.length) notices.push(`restored the modes of ${modes.map((m) => path.join(dir, m)).join(', ')}`);
    for (const rel of Object.keys(ours ?? {})) if (!(rel in newFiles)) notices.push(`removed ${path.join(dir, rel)} (no longer in the output)`);
    return { action: 'replace', keep, hashes: newFiles, notices, edited };
  }
  if (userFiles.length) {
    // The folder stays for the user's files; the record keeps it (with no
    // files of ours), so it is still ours to reuse if the cluster returns.
    if (Object.keys(ours!).length === 0) return { action: 'same', keep, hashes: {}, notices }; // kept by an earlier run: nothing to do
    for (const rel of Object.keys(ours!)) notices.push(`removed ${path.join(dir, rel)} (cluster ${name} is no longer in the fleet)`);
    notices.push(`kept ${dir}: it holds files synth did not write (${userFiles.map((f) => f.rel).join(', ')}); delete it yourself when they are no longer needed`);
    return { action: 'replace', keep, hashes: {}, notices };
  }
  if (st) notices.push(`removed ${dir}/ (cluster ${name} is no longer in the fleet)`);
  return { action: 'remove', keep, notices };
}

/**
 * Our files and folders whose mode is not the one synth gives them (600 in
 * 700 for key material, 644 in 755 otherwise): modes are part of the output,
 * so a `chmod 644` of a Secret manifest is not "unchanged".
 */
function wrongModes(entries: Array<{ rel: string; st: fs.Stats }>, files: readonly OutputFile[]): string[] {
  const want = new Map<string, number>();
  const secretDirs = new Set(files.filter((f) => f.secret).map((f) => path.posix.dirname(f.path)));
  for (const f of files) {
    want.set(f.path, f.secret ? SECRET_FILE_MODE : PUBLIC_FILE_MODE);
    const parts = f.path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      want.set(d, secretDirs.has(d) ? SECRET_DIR_MODE : PUBLIC_DIR_MODE);
    }
  }
  return entries.filter((e) => want.has(e.rel) && modeBits(e.st.mode) !== want.get(e.rel)).map((e) => e.rel);
}

/** The folder holds exactly our files with the new content and modes (no write needed). */
function sameFiles(
  dir: string, ours: FileHashes, wanted: FileHashes, entries: Array<{ rel: string; st: fs.Stats }>, files: readonly OutputFile[],
): boolean {
  const a = Object.keys(ours).sort();
  const b = Object.keys(wanted).sort();
  if (a.length !== b.length || a.some((x, i) => x !== b[i] || ours[x] !== wanted[x])) return false;
  if (wrongModes(entries, files).length) return false;
  const onDisk = new Map(entries.map((e) => [e.rel, e.st]));
  const content = new Map(files.map((f) => [f.path, f.content]));
  return a.every((rel) => {
    const st = onDisk.get(rel);
    if (!st?.isFile()) return false;
    try {
      // The bytes themselves, not another hash of them.
      return fs.readFileSync(path.join(dir, rel), 'utf8') === content.get(rel);
    } catch {
      return false;
    }
  });
}

/**
 * The folder is left as it is without rendering the cluster's files: its
 * inputs are those recorded and each of our files on disk still holds the
 * recorded bytes (read as the full comparison reads them, never through a
 * symlink).
 */
function unchangedInputs(root: string, name: string, inputs: string | undefined, old: RecordData | undefined): boolean {
  const ours = old?.clusters[name];
  if (!inputs || !ours || old?.inputs?.[name] !== inputs) return false;
  // Only through real folders (a symlinked one is never followed): else the full check decides.
  const dirs = new Map<string, fs.Stats | undefined>();
  const realDir = (rel: string): boolean => {
    if (!dirs.has(rel)) {
      const st = rel === '.' || realDir(path.posix.dirname(rel)) ? lstatOrUndefined(path.join(root, name, ...rel.split('/').filter((x) => x !== '.'))) : undefined;
      dirs.set(rel, st?.isDirectory() ? st : undefined);
    }
    return dirs.get(rel) !== undefined;
  };
  const files: OutputFile[] = [];
  const entries: Array<{ rel: string; st: fs.Stats }> = [];
  for (const [rel, hash] of Object.entries(ours)) {
    if (!realDir(path.posix.dirname(rel))) return false;
    const file = path.join(root, name, ...rel.split('/'));
    let content: string | undefined;
    try {
      content = readRegularFile(file);
    } catch {
      return false;
    }
    if (content === undefined || sha256(content) !== hash) return false;
    const st = lstatOrUndefined(file);
    if (!st) return false;
    entries.push({ rel, st });
    // As the writer marks it: a Secret manifest with inline data holds key material.
    files.push({ path: rel, content, secret: rel.startsWith('manifests/Secret.') && /^(data|stringData):/m.test(content) });
  }
  // Modes are part of "unchanged": a file or folder chmod-ed since is restored by the full path.
  for (const [rel, st] of dirs) if (st && rel !== '.') entries.push({ rel, st });
  return wrongModes(entries, files).length === 0;
}

/**
 * The steps of one write (the caller has checked the root and holds the
 * lock). Yields after each file-system change so a driver can stop between
 * steps (Ctrl-C) or, in the fault tests, kill the process there.
 *
 * `clusters` may be rendered lazily: each cluster is planned and its files
 * handed to the {@link StagingWriter} (a worker thread) as it arrives, so the
 * files of one cluster are written while the next one renders. Nothing
 * outside the staging folder changes before every cluster has arrived.
 */
export function* writeSteps(root: string, clusters: Iterable<OutputCluster>, onEdited?: (line: string) => void): Generator<Phase, OutputResult> {
  const notices: string[] = [];
  yield* recoverSteps(root, notices);
  const old = readRecord(root);
  if (!old) refuseForeign(root);
  const oldClusters = old?.clusters ?? {};
  const record: RecordData = { tool: 'dsx-event-bus synth', version: 1, clusters: {} };
  const replace: string[] = [];
  const remove: string[] = [];
  const planNotices: string[] = [];

  // Made when the first cluster folder has to be written: a run that
  // changes nothing creates nothing.
  let stagingName = '';
  let staging = '';
  let writer: StagingWriter | undefined;
  // Files are written without their own fsync; one syncfs makes them all
  // durable before the journal (each file is fsynced where syncfs is unavailable).
  const written: string[] = [];
  let swapping = false;
  const stop = () => {
    writer?.abort();
    if (staging && lstatOrUndefined(staging)) fs.rmSync(staging, { recursive: true, force: true });
  };
  function* openStaging(): Generator<Phase, void> {
    if (staging) return;
    stagingName = `.dsx-event-bus-staging-${crypto.randomBytes(4).toString('hex').slice(0, 6)}`;
    staging = path.join(root, stagingName);
    mkdirOwn(staging, SECRET_DIR_MODE);
    mkdirOwn(path.join(staging, 'new'), SECRET_DIR_MODE);
    mkdirOwn(path.join(staging, 'old'), SECRET_DIR_MODE);
    writer = new StagingWriter();
    yield 'stage';
  }
  function* stage(name: string, files: readonly OutputFile[], keep: ClusterPlan['keep']): Generator<Phase, void> {
    yield* openStaging();
    const w = writer!;
    const dest = path.join(staging, 'new', name);
    w.run({ op: 'mkdir', path: dest, mode: PUBLIC_DIR_MODE });
    const secretDirs = new Set(files.filter((f) => f.secret).map((f) => path.posix.dirname(f.path)));
    const made = new Set<string>(['.']);
    const ensureDir = (rel: string) => {
      if (made.has(rel)) return;
      ensureDir(path.posix.dirname(rel));
      w.run({ op: 'mkdir', path: path.join(dest, rel), mode: secretDirs.has(rel) ? SECRET_DIR_MODE : PUBLIC_DIR_MODE });
      made.add(rel);
    };
    for (const f of files) {
      ensureDir(path.posix.dirname(f.path));
      const file = path.join(dest, f.path);
      w.run({ op: 'write', path: file, content: f.content, mode: f.secret ? SECRET_FILE_MODE : PUBLIC_FILE_MODE });
      written.push(file);
      yield 'stage';
    }
    // The user's files stay: hard links (same file, same owner and mode), their folders recreated.
    for (const e of keep) {
      ensureDir(path.posix.dirname(e.rel));
      if (e.st.isDirectory()) {
        if (!made.has(e.rel)) w.run({ op: 'mkdir', path: path.join(dest, e.rel), mode: modeBits(e.st.mode) });
        made.add(e.rel);
      } else {
        w.run({ op: 'link', from: path.join(root, name, e.rel), path: path.join(dest, e.rel) });
      }
      yield 'stage';
    }
  }

  const skipped = new Map<string, number>();
  const inputs: { [cluster: string]: string } = {};
  try {
    const seen = new Set<string>();
    for (const c of rendered(clusters)) {
      seen.add(c.name);
      if (unchangedInputs(root, c.name, c.inputs, old)) {
        // Same inputs, same files on disk: not rendered, not compared, not touched.
        (record.clusters as { [c: string]: FileHashes })[c.name] = oldClusters[c.name];
        inputs[c.name] = old!.inputs![c.name];
        skipped.set(c.name, Object.keys(oldClusters[c.name]).length);
        continue;
      }
      checkNames(root, [c]);
      refuseSeedsInPublicFiles(root, c);
      const p = planCluster(root, c.name, c, oldClusters[c.name]);
      // Named before anything is replaced (the swap comes after every cluster is staged).
      for (const line of p.edited ?? []) {
        if (onEdited) onEdited(line);
        else planNotices.push(line);
      }
      (record.clusters as { [c: string]: FileHashes })[c.name] = p.hashes!;
      planNotices.push(...p.notices);
      if (c.inputs) inputs[c.name] = c.inputs;
      if (p.action === 'replace') {
        replace.push(c.name);
        yield* stage(c.name, c.files, p.keep);
      } else if (!c.inputs && old?.inputs?.[c.name]) {
        // Rendered without a digest and found byte-identical: the files are still those the recorded inputs made.
        inputs[c.name] = old.inputs[c.name];
      }
    }
    for (const name of Object.keys(oldClusters).filter((c) => !seen.has(c))) {
      const p = planCluster(root, name, undefined, oldClusters[name]);
      if (p.hashes) (record.clusters as { [c: string]: FileHashes })[name] = p.hashes;
      planNotices.push(...p.notices);
      if (p.action === 'replace') {
        replace.push(name);
        yield* stage(name, [], p.keep);
      } else if (p.action === 'remove') {
        remove.push(name);
      }
    }
    const sameInputs = (a: RecordData['inputs'], b: RecordData['inputs']) => JSON.stringify(sortedKeys(a ?? {})) === JSON.stringify(sortedKeys(b ?? {}));
    if (old && !replace.length && !remove.length && sameInputs(old.inputs, inputs)) return { changed: false, notices, skipped };

    yield* openStaging();
    writer!.finish();
    if (Object.keys(inputs).length) (record as { inputs?: RecordData['inputs'] }).inputs = sortedKeys(inputs);
    writeNewFile(path.join(staging, RECORD_FILE), JSON.stringify(record, null, 1) + '\n', PUBLIC_FILE_MODE, { fsync: false });
    written.push(path.join(staging, RECORD_FILE));
    if (!syncFileSystem(root)) for (const f of written) fsyncFile(f);
    fsyncDir(staging);
    yield 'stage';
    const journal: Journal = { version: 1, staging: stagingName, replace, remove };
    writeFileAtomic(path.join(root, SWAP_JOURNAL), JSON.stringify(journal) + '\n', PUBLIC_FILE_MODE);
    fsyncDir(root);
    swapping = true;
    yield 'swap';
    yield* rollForward(root, journal);
  } catch (e) {
    // Before the journal nothing visible changed: drop the staging folder. After it, the next run rolls forward.
    if (!swapping) stop();
    throw e;
  } finally {
    // A generator closed early by the driver (Ctrl-C) ends here too.
    if (!swapping) stop();
  }
  return { changed: true, notices: [...notices, ...planNotices], skipped };
}

function sortedKeys<T>(o: { [k: string]: T }): { [k: string]: T } {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Options of {@link writeOutput}. */
export interface WriteOutputOptions {
  /** Names the output directory in messages (`-o/--output`, `outdir`). */
  readonly flag: string;
  /** How long to wait for another run writing the same root. @default 60 s */
  readonly lockTimeoutMs?: number;
  /** Called once when the run has to wait for another one. */
  readonly onWait?: (holder: string) => void;
  /**
   * Called, before anything is replaced, for each generated file edited by
   * hand since synth wrote it.
   * @default - the line is one of the result's notices
   */
  readonly onEdited?: (line: string) => void;
  /** Polled between steps; true stops the run before the swap (nothing changed). */
  readonly interrupted?: () => boolean;
}

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

/**
 * Test-only fault injection: `DSX_EVENT_BUS_SYNTH_CRASH_AFTER=<n>` kills the
 * process with SIGKILL after the n-th step of the write; `=count` reports
 * the number of steps on stderr at the end. No other effect.
 */
export const SYNTH_CRASH_ENV = 'DSX_EVENT_BUS_SYNTH_CRASH_AFTER';

class StepCounter {
  private n = 0;
  private firstSwap = 0;
  private readonly crashAt = process.env[SYNTH_CRASH_ENV];
  public step(phase: Phase): void {
    this.n++;
    if (phase === 'swap' && !this.firstSwap) this.firstSwap = this.n;
    if (this.crashAt !== undefined && this.crashAt !== 'count' && Number(this.crashAt) === this.n) process.kill(process.pid, 'SIGKILL');
  }
  public end(): void {
    if (this.crashAt === 'count') process.stderr.write(`dsx-event-bus synth steps: ${this.n} (swap from step ${this.firstSwap})\n`);
  }
}

function prepareRoot(root: string, flag: string): void {
  const state = checkOutputRoot(root, flag, { keyMaterial: false });
  if (!state.exists) mkdirpOwn(root, PUBLIC_DIR_MODE);
  // Checked again under the lock; here so a refused folder does not even get our lock folder.
  else refuseForeign(root, { beforeLock: true });
}

/** Our error for a failed file-system step, naming the path and what state the output is in. */
function writeFailed(root: string, e: unknown, swapping: boolean): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!err?.code || e instanceof EventBusError || RENDER_ERRORS.has(err)) return e;
  const reason = /^E[A-Z]+: ([^,]+)/.exec(err.message ?? '')?.[1] ?? err.code;
  return problem({
    where: err.path ?? root,
    problem: `writing the output failed (${err.code}: ${reason})`,
    fix: swapping
      ? `fix the cause and rerun synth: it completes the swap this run started (see ${path.join(root, SWAP_JOURNAL)})`
      : `fix the cause (free space, permissions) and rerun; ${root} still holds the complete earlier output`,
  });
}

function lockError(root: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (!err?.code || e instanceof EventBusError) return e;
  const reason = err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.message;
  return problem({ where: root, problem: `cannot take the lock ${path.join(root, LOCK_DIR)} (${err.code}: ${reason})`, fix: 'make the output directory writable for this user, or choose another one; nothing was written' });
}

function holderText(o?: { pid: number; host: string; started: string }): string {
  return o ? `pid ${o.pid} on host ${o.host}, started ${o.started}` : 'another process';
}

/**
 * One write under the lock, the same for both drivers: runs the steps of
 * {@link writeSteps} (counting each for the crash hook), stops before the
 * swap when `interrupted()` says so, names the failed step's path, and
 * releases the lock. It yields every 16 steps: the async driver then gives
 * the event loop a turn (so a Ctrl-C handler can run); the sync one goes on.
 */
function* drive(root: string, clusters: Iterable<OutputCluster>, opts: WriteOutputOptions, lock: StoreLock): Generator<void, OutputResult> {
  const counter = new StepCounter();
  const steps = writeSteps(root, clusters, opts.onEdited);
  let swapping = false;
  try {
    for (let i = 0; ; i++) {
      if (i % 16 === 0) yield;
      if (!swapping && opts.interrupted?.()) {
        // The generator's cleanup removes the staging folder.
        steps.return({ changed: false, notices: [], skipped: new Map() });
        throw new OutputInterrupted(`interrupted before the new output was swapped in; ${root} still holds the complete earlier output and the staging folder was removed`);
      }
      const r = steps.next();
      if (r.done) {
        counter.end();
        return r.value;
      }
      swapping = r.value === 'swap';
      counter.step(r.value);
    }
  } catch (e) {
    throw writeFailed(root, e, swapping);
  } finally {
    lock.release();
  }
}

function timeoutOf(opts: WriteOutputOptions): number {
  return opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
}

/** Prepares `root`, takes its lock and returns the step-by-step run of the write. */
function startRun(root: string, clusters: Iterable<OutputCluster>, opts: WriteOutputOptions): Generator<void, OutputResult> {
  prepareRoot(root, opts.flag);
  let lock: StoreLock;
  try {
    lock = StoreLock.acquire(root, timeoutOf(opts), (o) => opts.onWait?.(holderText(o)));
  } catch (e) {
    throw lockError(root, e);
  }
  return drive(root, clusters, opts, lock);
}

/** Writes the output (see the file comment), synchronously. */
export function writeOutputSync(root: string, clusters: Iterable<OutputCluster>, opts: WriteOutputOptions): OutputResult {
  const run = startRun(root, clusters, opts);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

/**
 * Writes the output (see the file comment). Between steps it gives the event
 * loop a turn, so a Ctrl-C handler can set `interrupted`: before the swap the
 * run then removes its staging folder and throws {@link OutputInterrupted}
 * (the output is unchanged); during the swap it finishes the swap first.
 */
export async function writeOutput(root: string, clusters: Iterable<OutputCluster>, opts: WriteOutputOptions): Promise<OutputResult> {
  const run = startRun(root, clusters, opts);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Applies the recovery rule to `root` under its lock: rolls an interrupted
 * swap forward, removes unfinished staging folders. Returns what it did.
 */
export function recoverOutput(root: string, lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS): string[] {
  const lock = StoreLock.acquire(root, lockTimeoutMs);
  try {
    const notices: string[] = [];
    for (const _ of recoverSteps(root, notices)) { /* run every step */ }
    return notices;
  } finally {
    lock.release();
  }
}
