#!/usr/bin/env node
// `npm run demo`: synthesizes the demo fleet (examples/fleet.yaml: 1 CSC +
// 2 CPCs) into dist/ with the compiled CLI, compiling lib/ first only when it
// is missing or stale (scripts/build.js). Extra arguments go to `synth`.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');
const { ensureBuiltOrExit } = require('./build');

const ROOT = path.join(__dirname, '..');
ensureBuiltOrExit('npm run demo');
const run = spawnSync(process.execPath, [
  path.join(ROOT, 'lib', 'cli', 'main.js'), 'synth', '-c', 'examples/fleet.yaml', '-o', 'dist', ...process.argv.slice(2),
], { cwd: ROOT, stdio: 'inherit' });
process.exit(run.status ?? 1);
