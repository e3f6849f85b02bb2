import { redactSecrets } from './redact';

/**
 * One error style for the whole library and CLI: what is wrong (in our API's
 * terms), the value received, what is allowed, and how to fix it.
 *
 * Not exported from the package index: jsii cannot expose subclasses of the
 * built-in Error. Consumers match on the message (tests use regexes).
 */
export class EventBusError extends Error {
  /**
   * The message in a fleet-file user's terms (file keys and CLI flags instead
   * of construct props), when it differs; the CLI prints this one.
   */
  public readonly cliMessage?: string;

  constructor(message: string, cliMessage?: string) {
    // Every error passes the one redaction point: a seed in any form never reaches a message.
    super(redactSecrets(message));
    this.name = 'EventBusError';
    if (cliMessage !== undefined) this.cliMessage = redactSecrets(cliMessage);
  }
}

/** What went wrong, spelled out for the user. */
export interface ProblemDescription {
  /** Where the value came from: a construct path, a CLI flag, a file path, a fleet-file path. */
  readonly where?: string;
  /** What is wrong, e.g. `CPC id "Cpc_1" is invalid`. */
  readonly problem: string;
  /** What is allowed, e.g. `lower-case letters and digits only (^[a-z0-9]+$)`. */
  readonly allowed?: string;
  /** How to fix it, in the terms of the API that received the value (construct props). */
  readonly fix?: string;
  /**
   * How to fix it for a user of the fleet file and the CLI (file keys, flags),
   * when that differs from `fix`.
   */
  readonly cliFix?: string;
}

/** Builds the message of an {@link EventBusError}; the single place that formats errors. */
export function formatProblem(p: ProblemDescription): string {
  const parts = [p.where ? `${p.where}: ${p.problem}` : p.problem];
  if (p.allowed) parts.push(`Allowed: ${p.allowed}`);
  if (p.fix) parts.push(`Fix: ${p.fix}`);
  return parts.map((s) => s.replace(/\.?$/, '.')).join(' ');
}

/** Creates an {@link EventBusError} from a problem description. */
export function problem(p: ProblemDescription): EventBusError {
  return new EventBusError(formatProblem(p), p.cliFix === undefined ? undefined : formatProblem({ ...p, fix: p.cliFix }));
}

/**
 * What a refused file-system operation means for the user and what to do,
 * by error code: a file where a folder belongs is not a permissions problem.
 */
export function fileSystemFix(code: string | undefined): { reason?: string; fix: string } {
  switch (code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return { reason: 'a file is in the way: the path, or a folder above it, is not a folder', fix: 'choose a folder (or a path that does not exist yet), or move the file away' };
    case 'EISDIR':
      return { reason: 'it is a folder, where a file was expected', fix: 'choose a file path' };
    case 'EACCES':
    case 'EPERM':
      return { reason: 'permission denied', fix: 'run as the user that owns the path, or fix its permissions' };
    case 'ENOSPC':
    case 'EDQUOT':
      return { reason: 'no space left on the device', fix: 'free some space, then rerun' };
    case 'EROFS':
      return { reason: 'the file system is read-only', fix: 'choose a path on a writable file system' };
    case 'ENAMETOOLONG':
      return { reason: 'a file name is too long', fix: 'use shorter names or a shorter path' };
    default:
      return { fix: 'make sure the path is a directory this user may write (not a file, not read-only, with free space), then rerun' };
  }
}

/** Quotes a user-supplied value for an error message (JSON string syntax, so whitespace is visible). */
export function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
