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
import * as fs from 'fs';
import * as path from 'path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'worker_threads';
import { DONE, StagingFailure, StagingOp, StagingWorkerData, STOP } from './staging-worker';

export type { StagingOp } from './staging-worker';

/**
 * The worker's module: ./staging-worker.js beside this file in lib/ (and in
 * the installed package). A thread runs JavaScript only, so when this file
 * runs from its TypeScript source (the tests, under ts-jest) the worker is
 * the compiled twin in lib/files/, which the test run compiles first
 * (test/util/global-setup.ts); it fails with the fix when it is missing.
 */
function workerModule(): string {
  const beside = path.join(__dirname, 'staging-worker.js');
  if (path.extname(__filename) === '.js') return beside;
  const compiled = path.join(__dirname, '..', '..', 'lib', 'files', 'staging-worker.js');
  if (!fs.existsSync(compiled)) {
    throw new Error(`the staging writer's worker ${compiled} is missing: the TypeScript sources run the compiled worker. Fix: compile with node scripts/build.js`);
  }
  return compiled;
}

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
    const data: StagingWorkerData = { port: this.channel.port2, state: this.state };
    this.worker = new Worker(workerModule(), {
      workerData: data,
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
    const m = receiveMessageOnPort(this.channel.port1)?.message as StagingFailure | undefined;
    this.abort();
    throw Object.assign(new Error(m?.message ?? 'writing the staging folder failed'), { code: m?.code, path: m?.path, syscall: m?.syscall, errno: m?.errno });
  }
}
