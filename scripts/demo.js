#!/usr/bin/env node
// `npm run demo`: synthesizes the demo fleet (examples/fleet.yaml: 1 CSC +
// 2 CPCs) into dist/ with the compiled CLI, compiling lib/ first only when it
// is missing or stale (scripts/build.js). Extra arguments go to `synth`.
'use strict';
const path = require('path');
const { ensureBuiltOrExit } = require('./build');

const ROOT = path.join(__dirname, '..');
ensureBuiltOrExit('npm run demo');
// The CLI in this process (one Node start less than spawning it): it reads
// its arguments from process.argv and sets process.exitCode.
const main = path.join(ROOT, 'lib', 'cli', 'main.js');
process.chdir(ROOT);
process.argv = [process.argv[0], main, 'synth', '-c', 'examples/fleet.yaml', '-o', 'dist', ...process.argv.slice(2)];
require(main);
