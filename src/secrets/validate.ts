/**
 * Kubernetes naming rules for the values users pass to the secrets
 * constructs. Checked where the value is received, so a bad name fails with
 * our error (naming the prop) instead of at `kubectl apply`.
 */
import { problem, quote } from '../errors';

// Object and namespace names follow the same rules everywhere in the library.
export { validateAnnotations, validateLabels, validateNamespace, validateObjectName } from '../k8s/names';

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
// One segment of a remote path (Vault KV path, AWS/GCP secret name part):
// portable characters only, so the same path works in every backend and on disk.
const PATH_SEGMENT = /^[A-Za-z0-9_][-A-Za-z0-9_.]*$/;

/** Throws unless `key` is a valid Secret data key. */
export function validateSecretKey(key: string, where: string): void {
  if (key.length === 0 || key.length > 253 || !SECRET_KEY.test(key)) {
    throw problem({
      where,
      problem: `Secret key ${quote(key)} is invalid`,
      allowed: 'letters, digits, "-", "_" and "." (^[-._a-zA-Z0-9]+$), at most 253 characters',
      fix: 'rename the key',
    });
  }
}

/**
 * Throws unless `path` is a relative slash-separated path of portable
 * segments (a remote-key prefix or a Vault mount). Segments `.` and `..` are
 * refused because the export writes the same path to disk.
 */
export function validateRemotePath(path: string, where: string, what: string): void {
  const segments = path.split('/');
  if (path.length === 0 || segments.some((s) => !PATH_SEGMENT.test(s))) {
    throw problem({
      where,
      problem: `${what} ${quote(path)} is invalid`,
      allowed: 'one or more segments separated by "/", each of letters, digits, "-", "_" and "." not starting with "-" or "." (no leading, trailing or double "/")',
      fix: `use e.g. ${quote(segments.filter((s) => PATH_SEGMENT.test(s)).join('/') || 'dsx-event-bus')}`,
    });
  }
}
