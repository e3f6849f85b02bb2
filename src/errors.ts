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
   * The description the message was made from, for the layers above that
   * re-word it in their caller's terms: a construct that forwarded a prop
   * names its own prop ({@link forwardedProps}), the CLI the fleet file's
   * key. Non-enumerable (and not a class field), so an uncaught error prints
   * its message and stack, nothing else.
   */
  declare public readonly description?: ProblemDescription;

  constructor(message: string, description?: ProblemDescription) {
    // Every error passes the one redaction point: a seed in any form never reaches a message.
    super(redactSecrets(message));
    this.name = 'EventBusError';
    if (description !== undefined) Object.defineProperty(this, 'description', { value: description, enumerable: false });
  }
}

/** What went wrong, spelled out for the user. */
export interface ProblemDescription {
  /** Where the value came from: a construct path, an API name, a CLI flag, a file. */
  readonly where?: string;
  /**
   * The prop path of the bad value, relative to what `where` names (the
   * props of that construct or call), e.g. `cpcs[1].id` or
   * `gateway.mtlsHostnames`; rendered as `where: field: problem`.
   */
  readonly field?: string;
  /** What is wrong, e.g. `CPC id "Cpc_1" is invalid`. */
  readonly problem: string;
  /** What is allowed, e.g. `lower-case letters and digits only (^[a-z0-9]+$)`. */
  readonly allowed?: string;
  /**
   * How to fix it, in the terms of the API that received the value (its
   * props); the CLI re-words props spellings for a fleet-file user.
   */
  readonly fix?: string;
  /** Items listed below the message, one a line. */
  readonly details?: readonly string[];
}

/** A prop path as the caller spells it: `name`, `name[0]`, `a.b[2].c`. */
const PROP_PATH = /^[A-Za-z_$][\w$]*(\[\d+\])*(\.[A-Za-z_$][\w$]*(\[\d+\])*)*$/;

/**
 * The where/field split of a description. Most call sites write
 * `where: \`${path}: ${field}\``; the part after the first `: ` is the field
 * when it is a prop path, so every error carries its field without each site
 * spelling it twice.
 */
function located(p: ProblemDescription): ProblemDescription {
  if (p.field !== undefined || p.where === undefined) return p;
  const at = p.where.indexOf(': ');
  if (at < 0) return p;
  const field = p.where.slice(at + 2);
  return PROP_PATH.test(field) ? { ...p, where: p.where.slice(0, at), field } : p;
}

/** Builds the message of an {@link EventBusError}; the single place that formats errors. */
export function formatProblem(p: ProblemDescription): string {
  const place = [p.where, p.field].filter((x) => x !== undefined && x !== '').join(': ');
  const parts = [place ? `${place}: ${p.problem}` : p.problem];
  if (p.allowed) parts.push(`Allowed: ${p.allowed}`);
  if (p.fix) parts.push(`Fix: ${p.fix}`);
  const text = parts.map((s) => s.replace(/\.?$/, '.')).join(' ');
  return p.details?.length ? `${text}\n${p.details.map((d) => `  - ${d.replace(/\n/g, '\n    ')}`).join('\n')}` : text;
}

/** Creates an {@link EventBusError} from a problem description. */
export function problem(p: ProblemDescription): EventBusError {
  const d = located(p);
  return new EventBusError(formatProblem(d), d);
}

/**
 * Runs `build`, which creates the construct at path `child` from props we
 * forwarded; an error about one of the child's props that came from one of
 * ours is re-reported as ours: at `where`, under the prop path `mapField`
 * gives for the child's (undefined: not one of ours, the error stands). So a
 * user reads the prop they set, never a field of a construct made for them.
 */
export function forwardedProps<T>(child: string, where: string, mapField: (field: string) => string | undefined, build: () => T): T {
  try {
    return build();
  } catch (e) {
    const d = e instanceof EventBusError ? e.description : undefined;
    const field = d?.where === child && d.field !== undefined ? mapField(d.field) : undefined;
    if (!d || field === undefined) throw e;
    throw problem({ ...d, where, field });
  }
}

/** A {@link forwardedProps} mapping that renames the first part of a prop path (`overrides[1]` to `secretOverrides[1]`). */
export function renamedProps(names: { [childProp: string]: string }): (field: string) => string | undefined {
  return (field) => {
    const head = /^[A-Za-z_$][\w$]*/.exec(field)?.[0];
    return head !== undefined && Object.prototype.hasOwnProperty.call(names, head) ? names[head] + field.slice(head.length) : undefined;
  };
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

/** Codes of the warnings this library emits. */
const warned = new Set<string>();

/**
 * Emits a process warning (type `DsxEventBusWarning`) once per process and
 * code: Node prints it on stderr (unless run with `--no-warnings`), and
 * `process.on('warning')` sees it. The CLI prints it as
 * `dsx-event-bus: warning: …`.
 */
export function warnOnce(code: string, message: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(message, { type: WARNING_TYPE, code });
}

/** The `name` of every warning {@link warnOnce} emits. */
export const WARNING_TYPE = 'DsxEventBusWarning';
