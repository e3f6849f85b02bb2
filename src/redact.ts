/**
 * The one redaction point for text that may hold an NKey seed: every error
 * message (`EventBusError`) and every line the CLI prints passes through
 * {@link redactSecrets}. It recognises a seed in any form a user or a file
 * may give it:
 *
 * - any case (`su…`, `Su…`), any seed prefix (`S` + U, A, X, O, N, C or P);
 * - embedded in other text (`seed=SU…`, `"SU…"`, `xxSU…yy`);
 * - with whitespace, a byte-order mark, zero-width characters or JSON escapes
 *   (`\n`, `\uFEFF`) around it or inside it (a wrapped line, a BOM-prefixed
 *   file quoted with `JSON.stringify`).
 *
 * Two rules, generous on purpose (a redacted non-seed costs a little clarity,
 * a printed seed costs a key):
 * 1. a contiguous run of base32 letters (any case) holding `S` + a prefix
 *    letter + 56 base32 letters is replaced whole, checksum or not;
 * 2. ignoring separators (whitespace, BOM, zero-width characters, JSON escapes),
 *    any 58 letters that decode as a seed with a valid CRC16 (one chance in
 *    65,536 for random letters) are replaced, from their first to their last
 *    character;
 * 3. a base64 run (as in a Secret's `data`) that decodes to text holding a
 *    seed by rule 1 or 2 is replaced whole.
 *
 * Seed format: https://github.com/nats-io/nkeys (prefix byte, base32, CRC16).
 * Bottom of the module graph: imports nothing of ours.
 */
import { crc16 } from 'nkeys.js/lib/crc16';

/** What a redacted seed becomes. Holds no base32 run that could be mistaken for a key. */
export const REDACTED_SEED = '[seed redacted]';

const SEED_LENGTH = 58;
// Base32 (RFC 4648) value of each ASCII character, any case; -1 for others.
const B32 = new Int8Array(128).fill(-1);
for (let i = 0; i < 26; i++) {
  B32[65 + i] = i;
  B32[97 + i] = i;
}
for (let i = 0; i < 6; i++) B32[50 + i] = 26 + i;
const S = 18;
// U, A, X, O, N, C (public-key kinds) and P (private): the second letter of a seed.
const SEED_KINDS = new Set([20, 0, 23, 14, 13, 2, 15]);

// 58 bytes of seed take 78 base64 characters.
const BASE64_RUN = /[A-Za-z0-9+/_-]{78,}={0,2}/g;
// Whitespace (\s covers the BOM and NBSP), zero-width characters, soft hyphen.
const SEPARATOR = /[\s\u200B-\u200D\u2060\u00AD]/;

/** Replaces every seed in `text` (see the rules above) with {@link REDACTED_SEED}. */
export function redactSecrets(text: string): string {
  const spans = seedSpans(text);
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    out += text.slice(at, start) + REDACTED_SEED;
    at = end;
  }
  return out + text.slice(at);
}

/** True when `text` holds a seed in any form that {@link redactSecrets} recognises. */
export function containsSeed(text: string): boolean {
  return seedSpans(text).length > 0;
}

/** Merged, sorted [start, end) ranges of `text` that hold a seed. */
function seedSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  spans.push(...contiguousSeeds(text));
  spans.push(...checksummedSeeds(text));
  for (const m of text.matchAll(BASE64_RUN)) {
    if (base64HoldsSeed(m[0])) spans.push([m.index!, m.index! + m[0].length]);
  }
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [spans[0]];
  for (const s of spans.slice(1)) {
    const last = merged[merged.length - 1];
    if (s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push(s);
  }
  return merged;
}

/** Rule 3: `run` decodes (at any of the 4 alignments, base64 or base64url) to text holding a seed. */
function base64HoldsSeed(run: string): boolean {
  const standard = run.replace(/-/g, '+').replace(/_/g, '/');
  for (let offset = 0; offset < 4; offset++) {
    const decoded = Buffer.from(standard.slice(offset), 'base64').toString('latin1');
    if (contiguousSeeds(decoded).length || checksummedSeeds(decoded).length) return true;
  }
  return false;
}

/**
 * Rule 1: each maximal run of base32 letters (any case) that holds `S`, a
 * seed-kind letter and at least 56 more letters. One pass over the text: a
 * run is found once and scanned once (a backtracking regular expression for
 * the same rule took quadratic time on long runs).
 */
function contiguousSeeds(text: string): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (b32(text, i) < 0) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && b32(text, i) >= 0) i++;
    if (runHoldsSeed(text, start, i)) found.push([start, i]);
  }
  return found;
}

/** Whether some `S` + kind letter in the base32 run [start, end) has 56 letters after it. */
function runHoldsSeed(text: string, start: number, end: number): boolean {
  for (let p = start; p + SEED_LENGTH <= end; p++) {
    if (b32(text, p) === S && SEED_KINDS.has(b32(text, p + 1))) return true;
  }
  return false;
}

/** The base32 value of the character at `i` (any case), -1 for any other character. */
function b32(text: string, i: number): number {
  const code = text.charCodeAt(i);
  return code < 128 ? B32[code] : -1;
}

/** Rule 2: seeds with a valid checksum, separators inside them ignored. */
function checksummedSeeds(text: string): Array<[number, number]> {
  // The base32 letters of the text in order, with where each starts and ends;
  // -1 marks a character that breaks a key (anything but a letter or a separator).
  const values: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < text.length;) {
    const code = text.charCodeAt(i);
    const v = code < 128 ? B32[code] : -1;
    if (v >= 0) {
      values.push(v);
      starts.push(i);
      ends.push(i + 1);
      i++;
      continue;
    }
    const escape = code === 92 ? /^\\(?:[nrtfbv]|u[0-9a-fA-F]{4})/.exec(text.slice(i, i + 6)) : null;
    if (escape) {
      i += escape[0].length;
    } else if (SEPARATOR.test(text[i])) {
      i++;
    } else {
      if (values[values.length - 1] !== -1) {
        values.push(-1);
        starts.push(i);
        ends.push(i + 1);
      }
      i++;
    }
  }
  const found: Array<[number, number]> = [];
  const bytes = new Uint8Array(36);
  for (let i = 0; i + SEED_LENGTH <= values.length; i++) {
    if (values[i] !== S || !SEED_KINDS.has(values[i + 1])) continue;
    let ok = true;
    for (let j = 2; j < SEED_LENGTH && ok; j++) ok = values[i + j] >= 0;
    if (!ok || !validChecksum(values, i, bytes)) continue;
    found.push([starts[i], ends[i + SEED_LENGTH - 1]]);
    i += SEED_LENGTH - 1;
  }
  return found;
}

/* eslint-disable no-bitwise */ // base32 decoding is bit arithmetic
/** Decodes 58 base32 values from `at` into 36 bytes; true when the last two are the CRC16 of the first 34. */
function validChecksum(values: number[], at: number, bytes: Uint8Array): boolean {
  let buffer = 0;
  let bits = 0;
  let n = 0;
  for (let j = 0; j < SEED_LENGTH; j++) {
    buffer = ((buffer << 5) | values[at + j]) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = (buffer >> bits) & 0xff;
    }
  }
  if (n !== 36) return false;
  return crc16.checksum(bytes.subarray(0, 34)) === (bytes[34] | (bytes[35] << 8));
}
/* eslint-enable no-bitwise */

/**
 * True when `text` holds a seed whose CRC16 checksum is valid (rule 2, any
 * case, separators ignored), directly or base64-encoded. Stricter than
 * {@link containsSeed}, which also flags any 58-letter run starting with a
 * seed prefix (right for redaction, where a false alarm costs a little
 * clarity): this is the test that refuses output, where a false alarm
 * would stop a run, and a run of base64 in a certificate can look like an
 * unchecked seed (about one PEM line in a thousand).
 */
export function containsChecksummedSeed(text: string): boolean {
  if (checksummedSeeds(text).length) return true;
  for (const m of text.matchAll(BASE64_RUN)) {
    const standard = m[0].replace(/-/g, '+').replace(/_/g, '/');
    for (let offset = 0; offset < 4; offset++) {
      if (checksummedSeeds(Buffer.from(standard.slice(offset), 'base64').toString('latin1')).length) return true;
    }
  }
  return false;
}
