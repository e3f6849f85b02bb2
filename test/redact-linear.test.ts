import { NKeyKind, NKeyPublicKey } from '../src';
import { containsChecksummedSeed, containsSeed, redactSecrets } from '../src/redact';

/**
 * The redactor runs on every error message and printed line, and on key
 * files and field values of any size: its time must grow linearly with the
 * input. A quadratic rule shows as a ratio near 64 between n and 8n; a linear
 * one near 8. The bound (24) is generous so a loaded machine does not flake,
 * and each timing is the best of three runs of repeated calls.
 */
const KIB = 1024;

/** Time per call in ms: calls repeated until 30 ms have passed (so fast shapes are not lost in timer noise), best of 3. */
function best(f: () => void): number {
  let min = Infinity;
  for (let i = 0; i < 3; i++) {
    let calls = 0;
    const t = process.hrtime.bigint();
    let ms = 0;
    do {
      f();
      calls++;
      ms = Number(process.hrtime.bigint() - t) / 1e6;
    } while (ms < 30);
    min = Math.min(min, ms / calls);
  }
  return min;
}

// The shapes that made the earlier regular-expression rules backtrack, and
// the worst cases of each rule: a long base32 run, seed-like starts
// everywhere, long separator and escape runs, a long base64 run.
const shapes: Array<[string, (n: number) => string]> = [
  ['one base32 run', (n) => 'A'.repeat(n)],
  ['S + kind letter everywhere', (n) => 'SU'.repeat(n / 2)],
  ['lower-case base32 with separators', (n) => 'su a\u200B'.repeat(n / 5)],
  ['whitespace before a letter', (n) => `${' '.repeat(n)}x`],
  ['JSON escapes', (n) => '\\n'.repeat(n / 2)],
  ['one base64 run', (n) => '+/'.repeat(n / 2)],
  ['short runs', (n) => 'SUAB7 '.repeat(n / 6)],
];

describe('redactSecrets time is linear in the input', () => {
  test.each(shapes)('%s: 8x the input takes well under 64x the time', (_name, make) => {
    const small = make(16 * KIB);
    const large = make(128 * KIB);
    redactSecrets(small); // warm up the JIT
    const ratio = best(() => redactSecrets(large)) / best(() => redactSecrets(small));
    expect(ratio).toBeLessThan(24);
  });

  test.each(shapes)('containsChecksummedSeed, %s: 8x the input takes well under 64x the time', (_name, make) => {
    const small = make(16 * KIB);
    const large = make(128 * KIB);
    containsChecksummedSeed(small);
    const ratio = best(() => containsChecksummedSeed(large)) / best(() => containsChecksummedSeed(small));
    expect(ratio).toBeLessThan(24);
  });

  test('1 MiB of each shape: the time is printed (docs/security.md quotes it)', () => {
    const times: string[] = [];
    for (const [name, make] of shapes) {
      const text = make(1024 * KIB);
      const ms = best(() => redactSecrets(text));
      // Only the runs of S + kind letter are seed-shaped (rule 1), and they are replaced whole.
      const seedShaped = name.startsWith('S + kind');
      expect(containsSeed(text)).toBe(seedShaped);
      if (seedShaped) expect(redactSecrets(text)).toBe('[seed redacted]');
      times.push(`${name}: ${ms.toFixed(0)} ms`);
    }
    // eslint-disable-next-line no-console
    console.log(`redactSecrets on 1 MiB (best of 3):\n  ${times.join('\n  ')}`);
  });

  test('NKeyPublicKey.parse of a 1 MiB value fails at once, naming the length', () => {
    const text = `U${'A'.repeat(1024 * KIB)}`;
    const small = `U${'A'.repeat(128 * KIB)}`;
    expect(() => NKeyPublicKey.parse(text, 'ks/csc/nkeys/x/pubkey', NKeyKind.USER)).toThrow(/length is 1048577, expected 56/);
    const parse = (t: string) => () => expect(() => NKeyPublicKey.parse(t)).toThrow();
    const ratio = best(parse(text)) / best(parse(small));
    expect(ratio).toBeLessThan(24);
  });
});
