/**
 * Helpers for key-store trees on disk: a full snapshot (paths, types, modes,
 * mtimes, content hashes) to prove "nothing changed", temp roots, and an
 * independent check of a whole tree with nkeys.js.
 */
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as nkeys from 'nkeys.js';
import { LOCK_DIR } from '../../src/files/lock';

export interface EntrySnapshot {
  readonly type: 'file' | 'dir' | 'other';
  readonly mode: string;
  readonly mtimeMs: number;
  readonly sha256?: string;
}

/**
 * Every entry below (and including) `root`, keyed by relative path ('' is
 * the root). The lock directory's content and mtime are left out: taking and
 * releasing the lock changes them by design; the directory's existence and
 * mode are kept.
 */
export function snapshot(root: string): Record<string, EntrySnapshot> {
  const out: Record<string, EntrySnapshot> = {};
  const walk = (rel: string) => {
    const abs = rel ? path.join(root, rel) : root;
    const st = fs.lstatSync(abs);
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    const isLock = rel === LOCK_DIR;
    out[rel] = {
      type,
      mode: (st.mode % 0o10000).toString(8),
      mtimeMs: isLock ? 0 : st.mtimeMs,
      ...(type === 'file' ? { sha256: crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex') } : {}),
    };
    if (type === 'dir' && !isLock) for (const n of fs.readdirSync(abs).sort()) walk(rel ? `${rel}/${n}` : n);
  };
  walk('');
  return out;
}

/** Relative paths of regular files (lock directory excluded), sorted. */
export function listFiles(root: string): string[] {
  return Object.entries(snapshot(root)).filter(([, e]) => e.type === 'file').map(([p]) => p).sort();
}

const made: string[] = [];

/** A fresh temp directory (removed by {@link cleanupTempDirs}). */
export function tempDir(prefix = 'dsx-nkeys-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) {
    if (!fs.existsSync(d)) continue;
    fs.chmodSync(d, 0o700);
    fs.rmSync(d, { recursive: true, force: true });
  }
}

export const read = (root: string, rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
export const write = (root: string, rel: string, text: string) => fs.writeFileSync(path.join(root, rel), text);

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A fresh nkeys.js key pair of a kind, as text (seed, public key). */
export function nkeysPair(kind: 'user' | 'account' | 'curve'): { seed: string; pub: string } {
  const kp = kind === 'user' ? nkeys.createUser() : kind === 'account' ? nkeys.createAccount() : nkeys.createCurve();
  return { seed: dec.decode(kp.getSeed()), pub: kp.getPublicKey() };
}

/** The public key nkeys.js derives from a seed file's content. */
export function nkeysPublicOf(seedText: string): string {
  const seed = enc.encode(seedText.trim());
  return (seedText.startsWith('SX') ? nkeys.fromCurveSeed(seed) : nkeys.fromSeed(seed)).getPublicKey();
}

/**
 * Runs `body` (the source of a function of `input`, with `nkeys` in scope) in
 * a plain Node process and returns its result. nkeys.js does ed25519 with
 * tweetnacl (pure JavaScript), which inside jest's module sandbox is about
 * 13x slower than in plain Node (measured 2026-12-07: 37 ms against 2.9 ms of
 * CPU per key derivation); the nkeys tests derive about a thousand keys as an
 * independent check of the key store, which was 60 s of CPU in jest. Same
 * package, same code, same results; only where it runs changes. Seeds go in
 * on stdin, never on a command line.
 */
function inPlainNode<T>(body: string, input: unknown): T {
  const script = `const nkeys = require(${JSON.stringify(require.resolve('nkeys.js'))});
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify((${body})(input)));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
}

/** {@link nkeysPublicOf} of every seed file content, derived by nkeys.js in one plain Node process (see {@link inPlainNode}). */
export function nkeysPublicOfAll(seedTexts: readonly string[]): string[] {
  if (seedTexts.length === 0) return [];
  return inPlainNode<string[]>(`(seeds) => seeds.map((text) => {
    const seed = new TextEncoder().encode(text.trim());
    return (text.startsWith('SX') ? nkeys.fromCurveSeed(seed) : nkeys.fromSeed(seed)).getPublicKey();
  })`, seedTexts);
}

/** {@link nkeysPair} for each kind, made by nkeys.js in one plain Node process (see {@link inPlainNode}). */
export function nkeysPairs(kinds: ReadonlyArray<'user' | 'account' | 'curve'>): Array<{ seed: string; pub: string }> {
  if (kinds.length === 0) return [];
  return inPlainNode(`(kinds) => kinds.map((kind) => {
    const kp = kind === 'user' ? nkeys.createUser() : kind === 'account' ? nkeys.createAccount() : nkeys.createCurve();
    return { seed: new TextDecoder().decode(kp.getSeed()), pub: kp.getPublicKey() };
  })`, kinds);
}
