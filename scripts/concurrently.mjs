#!/usr/bin/env node
// Runs projen tasks at once (`node scripts/concurrently.mjs test:deps
// test:types eslint`): the test task's static checks are single-threaded, so
// on two cores they take the time of the longest instead of the sum. Each
// task's output is printed whole when it ends, under its name; the exit code
// is the first failing task's (1 if it was killed), 0 when all pass.
import { spawn } from 'node:child_process';

const tasks = process.argv.slice(2);
if (tasks.length === 0) {
  process.stderr.write('usage: node scripts/concurrently.mjs <projen task>...\n');
  process.exit(2);
}

const runs = tasks.map((task) => new Promise((resolve) => {
  const started = Date.now();
  const child = spawn('npx', ['projen', task], { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  child.stdout.on('data', (c) => chunks.push(c));
  child.stderr.on('data', (c) => chunks.push(c));
  child.on('error', (e) => chunks.push(Buffer.from(`${e.message}\n`)));
  child.on('close', (code, signal) => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const status = code === 0 ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`;
    process.stdout.write(`--- ${task}: ${status} in ${seconds} s\n`);
    process.stdout.write(Buffer.concat(chunks));
    resolve(code === 0 ? 0 : (code ?? 1));
  });
}));

const codes = await Promise.all(runs);
process.exitCode = codes.find((c) => c !== 0) ?? 0;
