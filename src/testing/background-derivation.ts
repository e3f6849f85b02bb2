/**
 * Public keys of many seeds derived on a worker thread while the caller goes
 * on (rendering), for the deterministic store: a fleet of 1000 CPCs has
 * about 10,000 key pairs, and deriving each public key (Ed25519/X25519, with
 * Node's native crypto as in src/keys/nkey.ts) is the largest single cost
 * of its synthesis.
 *
 * Each key has a slot: 0 free, 1 being derived, 2 derived. The worker takes
 * free slots in order; a reader that finds its slot free takes it itself and
 * derives on its own thread (so it never waits for a queue), one that finds
 * it being derived waits for that one key. test/keys/nkey.test.ts proves the
 * results identical to nkeys.js.
 *
 * Internal to the package.
 */
import { Worker } from 'worker_threads';

// A string, not a module, so it runs the same from lib/ and from the sources under test.
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const crypto = require('crypto');
const { seeds, curve, out, state } = workerData;
for (let i = 0; i < state.length; i++) {
  if (Atomics.compareExchange(state, i, 0, 1) !== 0) continue;
  const d = Buffer.from(seeds.buffer, seeds.byteOffset + i * 32, 32).toString('base64url');
  const x = crypto.createPrivateKey({ key: { kty: 'OKP', crv: curve[i] ? 'X25519' : 'Ed25519', d, x: '' }, format: 'jwk' }).export({ format: 'jwk' }).x;
  out.set(Buffer.from(x, 'base64url'), i * 32);
  Atomics.store(state, i, 2);
  Atomics.notify(state, i);
}
`;

const FREE = 0;
const BUSY = 1;

/** Below this many keys a thread costs more than it saves. */
export const BACKGROUND_MIN_KEYS = 64;

/** Public keys of a fixed list of raw seeds, derived in the background (see the file comment). */
export class BackgroundDerivation {
  private readonly out: Uint8Array;
  private readonly state: Int32Array;

  /** `seeds[i]` is 32 raw bytes; `curve[i]` true for X25519 (curve) keys. */
  constructor(seeds: readonly Uint8Array[], curve: readonly boolean[]) {
    const n = seeds.length;
    const seedBytes = new Uint8Array(new SharedArrayBuffer(n * 32));
    seeds.forEach((s, i) => seedBytes.set(s, i * 32));
    this.out = new Uint8Array(new SharedArrayBuffer(n * 32));
    this.state = new Int32Array(new SharedArrayBuffer(n * 4));
    const curveBytes = Uint8Array.from(curve.map((c) => (c ? 1 : 0)));
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { seeds: seedBytes, curve: curveBytes, out: this.out, state: this.state } });
    // It never keeps the process alive; it ends when every slot is taken.
    worker.unref();
  }

  /**
   * The raw public key of seed `i` when the worker has it (waiting while it
   * derives that very key), or undefined when the caller is to derive it
   * (the slot is then the caller's).
   */
  public take(i: number): Uint8Array | undefined {
    const s = Atomics.compareExchange(this.state, i, FREE, BUSY);
    if (s === FREE) return undefined;
    while (Atomics.load(this.state, i) === BUSY) Atomics.wait(this.state, i, BUSY, 1000);
    return this.out.slice(i * 32, i * 32 + 32);
  }
}
