import { NKeyKind, NKeySeed } from '../src';
import { containsSeed, REDACTED_SEED, redactSecrets } from '../src/redact';
import { findSeeds } from './util/seeds';

// Fresh keys per run; the assertions below never print them (they compare booleans and counts).
const seeds = [NKeyKind.USER, NKeyKind.ACCOUNT, NKeyKind.CURVE, NKeyKind.OPERATOR, NKeyKind.SERVER, NKeyKind.CLUSTER]
  .map((k) => NKeySeed.generate(k).reveal());
const seed = seeds[0];
const body = (s: string) => s.slice(2).toLowerCase();
/** True when `out`, lower-cased and without whitespace, still holds the body of `s`. */
const leaks = (out: string, s: string) => out.replace(/[\s\uFEFF]/g, '').toLowerCase().includes(body(s));

describe('redactSecrets', () => {
  test.each([
    ['plain', (s: string) => s],
    ['lower case', (s: string) => s.toLowerCase()],
    ['mixed case', (s: string) => s.split('').map((c, i) => (i % 2 ? c.toLowerCase() : c)).join('')],
    ['quoted', (s: string) => JSON.stringify(s)],
    ['seed=…', (s: string) => `seed=${s}`],
    ['with a BOM and spaces', (s: string) => `\uFEFF  ${s}  `],
    ['embedded in letters', (s: string) => `xyzq${s}abcd`],
    ['embedded in lower-case letters', (s: string) => `sxq${s.toLowerCase()}k`],
    ['split by whitespace', (s: string) => `${s.slice(0, 20)} ${s.slice(20, 40)}\n${s.slice(40)}`],
    ['split by a JSON-escaped newline', (s: string) => JSON.stringify(`${s.slice(0, 30)}\n${s.slice(30)}`)],
    ['split by a BOM and zero-width space', (s: string) => `${s.slice(0, 10)}\uFEFF${s.slice(10, 30)}\u200B${s.slice(30)}`],
    ['followed by its public key', (s: string) => JSON.stringify(`${s}\n${NKeySeed.parse(s).publicKey.value}`)],
    ['in a stack trace', (s: string) => `TypeError: bad ${s}\n    at x (/a/b.js:1:2)`],
    ['base64-encoded (a Secret\'s data)', (s: string) => `seed: ${Buffer.from(`${s}\n`).toString('base64')}`],
    ['base64-encoded after other bytes', (s: string) => `x ${Buffer.from(`ab${s.toLowerCase()}`).toString('base64')} y`],
  ])('removes a seed: %s', (_name, form) => {
    for (const s of seeds) {
      const text = form(s);
      const out = redactSecrets(text);
      expect(containsSeed(text)).toBe(true);
      expect(leaks(out, s)).toBe(false);
      expect(out).toContain(REDACTED_SEED);
      expect(findSeeds(out)).toEqual([]);
    }
  });

  test('removes an S-prefixed run of 58 letters even when its checksum is wrong', () => {
    const broken = seed.slice(0, 30) + (seed[30] === 'A' ? 'B' : 'A') + seed.slice(31);
    expect(leaks(redactSecrets(`x ${broken} y`), broken)).toBe(false);
  });

  test('leaves public keys, paths and sentences alone', () => {
    const pub = NKeySeed.parse(seed).publicKey.value;
    const text = `csc/nkeys/nats-nack-user/pubkey: holds ${pub}. Scan the tree under the output directory and list every defect so the user sees`;
    expect(redactSecrets(text)).toBe(text);
    expect(containsSeed(text)).toBe(false);
  });
});
