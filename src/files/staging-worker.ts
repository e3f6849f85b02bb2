/**
 * The worker thread of {@link StagingWriter} (./staging-writer.ts), and the
 * protocol the two share. A real module, so the worker writes each file with
 * the package's one `writeNewFile` (./atomic-write.ts) and makes each folder
 * with `mkdirOwn` (./safe-fs.ts): nothing restated.
 *
 * Loaded as a worker (`new Worker(<this file>)`) it serves the port it is
 * given; loaded on the main thread (by the writer, for the protocol) it does
 * nothing.
 *
 * Internal to the package (not exported from the index).
 */
import * as fs from 'fs';
import { isMainThread, MessagePort, workerData } from 'worker_threads';
import { writeNewFile } from './atomic-write';
import { mkdirOwn } from './safe-fs';

/** One operation inside the staging folder (absolute paths). */
export type StagingOp =
  /** A new folder with an explicit mode (`mkdirOwn`). */
  | { readonly op: 'mkdir'; readonly path: string; readonly mode: number }
  /** A new file with an explicit mode, never through a symlink (`writeNewFile` without fsync). */
  | { readonly op: 'write'; readonly path: string; readonly content: string; readonly mode: number }
  /** A hard link to an existing file (the user's files carried over). */
  | { readonly op: 'link'; readonly from: string; readonly path: string };

/** Slots of the shared state (an Int32Array of 2). */
export const DONE = 0; // operations the worker has finished (or skipped)
export const STOP = 1; // 0 running, 1 stopped by the caller, 2 stopped by a failure

/** What the writer passes as `workerData`. */
export interface StagingWorkerData {
  readonly port: MessagePort;
  readonly state: Int32Array;
}

/** A failure as posted back to the writer (an Error does not cross threads with its errno fields). */
export interface StagingFailure {
  readonly message: string;
  readonly code?: string;
  readonly path?: string;
  readonly syscall?: string;
  readonly errno?: number;
}

/** Runs one operation: the writes of the synchronous path, without their fsync (one syncfs follows). */
export function applyStagingOp(m: StagingOp): void {
  if (m.op === 'mkdir') mkdirOwn(m.path, m.mode);
  else if (m.op === 'link') fs.linkSync(m.from, m.path);
  else writeNewFile(m.path, m.content, m.mode, { fsync: false });
}

/** Serves the writer: batches of operations in order; after the first failure the rest are skipped. */
function serve({ port, state }: StagingWorkerData): void {
  port.on('message', (batch: StagingOp[] | 'end') => {
    if (batch === 'end') {
      port.close();
      return;
    }
    for (const m of batch) {
      if (Atomics.load(state, STOP) === 0) {
        try {
          applyStagingOp(m);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          const failure: StagingFailure = {
            message: String(err?.message), code: err?.code, path: err?.path, syscall: err?.syscall, errno: err?.errno,
          };
          port.postMessage(failure);
          Atomics.store(state, STOP, 2);
        }
      }
      Atomics.add(state, DONE, 1);
      Atomics.notify(state, DONE);
    }
  });
}

if (!isMainThread && (workerData as Partial<StagingWorkerData> | undefined)?.port) serve(workerData as StagingWorkerData);
