/**
 * Seed-leak scanning: finds seed-shaped strings (`S` + key-kind letter + 56
 * base32 characters) in text, also inside base64-encoded values (Secret
 * `data`, or a seed base64-encoded anywhere else).
 */
const SEED = /S[UAXONCP][A-Z2-7]{56}/g;
const BASE64_RUN = /[A-Za-z0-9+/]{16,}={0,2}/g;

/** Every seed-shaped string in `text`, directly or base64-decoded (deduplicated). */
export function findSeeds(text: string): string[] {
  const found = new Set<string>(text.match(SEED) ?? []);
  for (const run of text.match(BASE64_RUN) ?? []) {
    // Try each alignment so a base64 value embedded in a longer token is still decoded.
    for (let offset = 0; offset < 4; offset++) {
      const decoded = Buffer.from(run.slice(offset), 'base64').toString('latin1');
      for (const s of decoded.match(SEED) ?? []) found.add(s);
    }
  }
  return [...found];
}

/** Describes seeds for an assertion message without printing them. */
export function describeSeeds(seeds: string[]): string {
  return seeds.map((s) => `${s.slice(0, 2)}… (${s.length} chars)`).join(', ');
}
