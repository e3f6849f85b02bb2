#!/usr/bin/env node
// The package.json a tarball carries runs nothing on a user's install, while a
// clone keeps its `prepare` (npm ci compiles lib/ in a fresh clone).
//
//   node scripts/pack-manifest.js prepack    compile lib/ when stale, then drop scripts.prepare
//   node scripts/pack-manifest.js postpack   put scripts.prepare back
//
// npm runs these as `prepack` and `postpack` around `npm pack` and `npm
// publish`, and packs package.json as it is on disk in between (the pattern of
// pinst). Each write is atomic (a temporary file renamed over package.json).
// Should a pack be interrupted between the two, `npm run postpack` or `npx
// projen` (which owns package.json) puts `prepare` back.
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const MANIFEST = path.join(ROOT, 'package.json');
/** The clone's `prepare` (set in .projenrc.ts). */
const PREPARE = 'node scripts/build.js';

function rewrite(change) {
  const text = fs.readFileSync(MANIFEST, 'utf8');
  const pkg = JSON.parse(text);
  pkg.scripts = change(pkg.scripts);
  const next = `${JSON.stringify(pkg, null, 2)}\n`;
  if (next === text) return;
  const tmp = `${MANIFEST}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, next, { flag: 'wx' });
  fs.renameSync(tmp, MANIFEST);
}

const [phase] = process.argv.slice(2);
if (phase === 'prepack') {
  require('./build').ensureBuiltOrExit('npm pack');
  rewrite((scripts) => {
    if (scripts.prepare !== undefined && scripts.prepare !== PREPARE) {
      throw new Error(`package.json scripts.prepare is ${JSON.stringify(scripts.prepare)}, expected ${JSON.stringify(PREPARE)}: update scripts/pack-manifest.js with .projenrc.ts`);
    }
    const { prepare: _dropped, ...rest } = scripts;
    return rest;
  });
} else if (phase === 'postpack') {
  // Back where .projenrc.ts puts it, just before prepack, so the file is byte-identical again.
  rewrite((scripts) => {
    const out = {};
    for (const [name, command] of Object.entries(scripts)) {
      if (name === 'prepare') continue;
      if (name === 'prepack') out.prepare = PREPARE;
      out[name] = command;
    }
    if (out.prepare === undefined) out.prepare = PREPARE;
    return out;
  });
} else {
  process.stderr.write(`usage: node scripts/pack-manifest.js prepack|postpack (got ${JSON.stringify(phase)})\n`);
  process.exit(2);
}
