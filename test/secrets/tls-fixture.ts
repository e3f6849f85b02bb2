/**
 * Test-time TLS material (never committed), made with the real `openssl`
 * CLI: a CA, a server certificate it signs, the server key, and an unrelated
 * key and CA for failing-input tests.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface TlsFixture {
  readonly caCrt: string;
  readonly tlsCrt: string;
  readonly tlsKey: string;
  /** A private key that does not belong to tlsCrt. */
  readonly otherKey: string;
  /** A CA that did not sign tlsCrt. */
  readonly otherCaCrt: string;
}

let cached: TlsFixture | undefined;

/** Generates the fixture once per test file. */
export async function tlsFixture(): Promise<TlsFixture> {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-bus-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=event-bus test CA', '-days', '2');
    ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.crt', '-subj', '/CN=unrelated test CA', '-days', '2');
    ssl('req', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=event-bus.example.com');
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:event-bus.example.com\n');
    ssl('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '2', '-extfile', 'ext.cnf');
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
    cached = { caCrt: read('ca.crt'), tlsCrt: read('tls.crt'), tlsKey: read('tls.key'), otherKey: read('other.key'), otherCaCrt: read('other.crt') };
    return cached;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
