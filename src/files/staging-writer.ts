/**
 * Writes the files and folders of synth's staging folder on a worker thread,
 * so the kernel work of creating thousands of files (open, write, close:
 * system CPU) runs beside the rendering of the next cluster (user CPU)
 * instead of after it. Only the staging folder is written this way; the
 * caller waits for every operation ({@link StagingWriter.finish}) before it
 * makes the staging folder durable and swaps it in, so the all-or-nothing
 * rule of ./output-tree.ts is unchanged.
 *
 * Operations run in the order they were given. The first failure stops the
 * worker and is raised by the next call of the caller, with the errno code
 * and the path of the failed operation, like the synchronous calls.
 *
 * Internal to the package (not exported from the index).
 */
import { MessageChannel, receiveMessageOnPort, Worker } from 'worker_threads';

/** One operation inside the staging folder (absolute paths). */
export type StagingOp =
  /** A new folder with an explicit mode (mkdir + chmod, as `mkdirOwn`). */
  | { readonly op: 'mkdir'; readonly path: string; readonly mode: number }
  /** A new file with an explicit mode, never through a symlink (as `writeNewFile` without fsync). */
  | { readonly op: 'write'; readonly path: string; readonly content: string; readonly mode: number }
  /** A hard link to an existing file (the user's files carried over). */
  | { readonly op: 'link'; readonly from: string; readonly path: string };

// The worker's code is a string (not a module of this package) so that it
// runs the same from lib/ and from the TypeScript sources under test. Its
// `write` is `writeNewFile` of ./atomic-write.ts with `fsync: false`: a new
// file (O_EXCL, O_NOFOLLOW), an explicit mode whatever the umask, removed
// again when writing fails.
const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const fs = require('fs');
const C = fs.constants;
const FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | (C.O_NOFOLLOW || 0);
const { port, state } = workerData;
function apply(m) {
  if (m.op === 'mkdir') {
    fs.mkdirSync(m.path, { mode: m.mode });
    fs.chmodSync(m.path, m.mode);
  } else if (m.op === 'link') {
    fs.linkSync(m.from, m.path);
  } else {
    const fd = fs.openSync(m.path, FLAGS, m.mode);
    try {
      fs.fchmodSync(fd, m.mode);
      fs.writeFileSync(fd, m.content);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(m.path, { force: true });
      if (e && typeof e === 'object' && !e.path) e.path = m.path;
      throw e;
    }
    fs.closeSync(fd);
  }
}
port.on('message', (batch) => {
  if (batch === 'end') {
    port.close();
    return;
  }
  for (const m of batch) {
    if (Atomics.load(state, 1) === 0) {
      try {
        apply(m);
      } catch (e) {
        port.postMessage({ message: String(e && e.message), code: e && e.code, path: e && e.path, syscall: e && e.syscall, errno: e && e.errno });
        Atomics.store(state, 1, 2);
      }
    }
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  }
});
`;

/** Slots of the shared state. */
const DONE = 0; // operations the worker has finished (or skipped)
const STOP = 1; // 0 running, 1 stopped by the caller, 2 stopped by a failure

/** Operations sent in one message. */
const BATCH = 64;
/** The caller waits when the worker is this many operations behind (bounds memory). */
const MAX_BEHIND = 2048;

/** Runs {@link StagingOp}s in order on a worker thread (see the file comment). */
export class StagingWriter {
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private readonly channel = new MessageChannel();
  private readonly worker: Worker;
  private batch: StagingOp[] = [];
  private posted = 0;
  private ended = false;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { port: this.channel.port2, state: this.state },
      transferList: [this.channel.port2],
    });
    // It never keeps the process alive; it ends when its port is closed.
    this.worker.unref();
  }

  /** Queues one operation; raises an earlier operation's failure. */
  public run(op: StagingOp): void {
    this.raiseFailure();
    this.batch.push(op);
    if (this.batch.length >= BATCH) this.flush();
    if (this.posted - Atomics.load(this.state, DONE) > MAX_BEHIND) this.waitFor(this.posted - MAX_BEHIND / 2);
  }

  /** Waits until every operation is done; raises the first failure. Ends the worker. */
  public finish(): void {
    this.flush();
    this.waitFor(this.posted);
    this.raiseFailure();
    this.end();
  }

  /** Stops: operations not yet started are skipped; returns when the worker is idle (nothing writes any more). */
  public abort(): void {
    if (this.ended) return;
    Atomics.compareExchange(this.state, STOP, 0, 1);
    this.batch = [];
    this.waitFor(this.posted);
    this.end();
  }

  private flush(): void {
    if (!this.batch.length) return;
    this.channel.port1.postMessage(this.batch);
    this.posted += this.batch.length;
    this.batch = [];
  }

  private waitFor(count: number): void {
    for (;;) {
      const done = Atomics.load(this.state, DONE);
      if (done >= count) return;
      Atomics.wait(this.state, DONE, done, 1000);
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.channel.port1.postMessage('end');
    this.channel.port1.close();
  }

  private raiseFailure(): void {
    if (Atomics.load(this.state, STOP) !== 2) return;
    const m = receiveMessageOnPort(this.channel.port1)?.message;
    this.abort();
    throw Object.assign(new Error(m?.message ?? 'writing the staging folder failed'), { code: m?.code, path: m?.path, syscall: m?.syscall, errno: m?.errno });
  }
}
