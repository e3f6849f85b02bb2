#!/usr/bin/env node
// Compiles the package (jsii: lib/*.js, lib/*.d.ts and .jsii) when lib/ is
// missing or older than a file under src/, and does nothing otherwise.
// npm runs it as `prepare` (after `npm ci`/`npm install` in a clone), so a
// fresh clone has lib/; scripts/pack-manifest.js runs it before `npm pack`/
// `npm publish` (and drops `prepare` from the packed package.json), so a
// packed tarball is never empty; `npm run demo` calls it too.
// `node scripts/build.js --force` compiles unconditionally (this is the build
// command that does not run the tests; `npx projen build` runs them too).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
/** What a complete build leaves behind (jsii rewrites every one on each compile). */
const OUTPUTS = ['lib/index.js', 'lib/index.d.ts', 'lib/cli/main.js', '.jsii'];

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Why lib/ must be compiled, or undefined when it is up to date. */
function staleReason() {
  const built = OUTPUTS.map((f) => mtime(path.join(ROOT, f)));
  const missing = OUTPUTS.filter((_, i) => built[i] === undefined);
  if (missing.length > 0) return `${missing.join(', ')} missing`;
  const oldest = Math.min(...built);
  const src = path.join(ROOT, 'src');
  const newer = fs.readdirSync(src, { recursive: true })
    .filter((f) => String(f).endsWith('.ts'))
    .find((f) => mtime(path.join(src, String(f))) > oldest);
  return newer === undefined ? undefined : `src/${newer} is newer than lib/`;
}

/** Compiles unless lib/ is up to date (or always, with force). Returns whether it compiled. */
function ensureBuilt({ force = false, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const reason = force ? 'forced' : staleReason();
  if (reason === undefined) return false;
  log(`compiling lib/ with jsii (${reason})...`);
  const jsii = path.join(ROOT, 'node_modules', '.bin', 'jsii');
  execFileSync(jsii, ['--silence-warnings=reserved-word'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', ...process.env },
  });
  return true;
}

/** ensureBuilt() for a command line: a failed compile ends the process with one ERROR line naming the command to rerun. */
function ensureBuiltOrExit(rerun, options) {
  try {
    return ensureBuilt(options);
  } catch (e) {
    process.stderr.write(`ERROR: compiling lib/ failed (${e.message.split('\n')[0]}). Fix: correct the errors jsii printed above, then run \`${rerun}\` again.\n`);
    process.exit(1);
  }
}

module.exports = { ensureBuilt, ensureBuiltOrExit, staleReason };

if (require.main === module) {
  ensureBuiltOrExit('node scripts/build.js', { force: process.argv.includes('--force') });
}
