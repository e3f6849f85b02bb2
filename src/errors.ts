/**
 * One error style for the whole library and CLI: what is wrong (in our API's
 * terms), the value received, what is allowed, and how to fix it.
 *
 * Not exported from the package index: jsii cannot expose subclasses of the
 * built-in Error. Consumers match on the message (tests use regexes).
 */
export class EventBusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventBusError';
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
  /** How to fix it. */
  readonly fix?: string;
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
  return new EventBusError(formatProblem(p));
}

/** Quotes a user-supplied value for an error message (JSON string syntax, so whitespace is visible). */
export function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
