/**
 * PEM certificate bundles, parsed with Node's X509Certificate. Library-internal
 * and reached from no public declaration: Node-only types stay out of the
 * public .d.ts files, which must compile under the `@types/node` of a fresh
 * `cdk8s init` app (^14, which has no X509Certificate).
 */
import * as crypto from 'crypto';
import { problem } from '../errors';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const ANY_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----/g;

/**
 * Throws unless `pem` is a bundle of one or more PEM certificates and nothing
 * else: a trust bundle is public, so a private key in it is refused (and never
 * echoed). Returns the parsed certificates.
 */
export function parseCertificateBundle(pem: string, where: string, what: string): crypto.X509Certificate[] {
  if (typeof pem !== 'string' || pem.trim() === '') {
    throw problem({ where, problem: `${what} is empty`, allowed: 'one or more "-----BEGIN CERTIFICATE-----" blocks', fix: `pass the PEM-encoded CA certificate(s) as ${what}` });
  }
  const others = [...pem.matchAll(ANY_BLOCK)].map((m) => m[1]).filter((label) => label !== 'CERTIFICATE');
  if (others.length) {
    throw problem({
      where,
      problem: `${what} holds a ${others[0]} block; a trust bundle is public and holds certificates only`,
      allowed: '"-----BEGIN CERTIFICATE-----" blocks only',
      fix: `remove the ${others[0]} (for a CA, pass only its certificate, e.g. ca.crt, never ca.key)`,
    });
  }
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw problem({ where, problem: `${what} holds no PEM certificate`, allowed: 'one or more "-----BEGIN CERTIFICATE-----" blocks', fix: `pass the PEM-encoded CA certificate(s) as ${what}` });
  }
  return blocks.map((b, i) => {
    try {
      return new crypto.X509Certificate(b);
    } catch (e) {
      throw problem({ where, problem: `${what}: certificate ${i + 1} of ${blocks.length} cannot be parsed (${(e as Error).message})`, fix: 'pass valid PEM certificates' });
    }
  });
}
