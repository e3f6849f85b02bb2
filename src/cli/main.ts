#!/usr/bin/env node
import { main } from './run';

// A reader that stops early (`export -o - | head`) closes the pipe: end quietly
// with the shell's code for a broken pipe (128 + SIGPIPE), as `cat | head` does,
// instead of an unhandled 'error' event and its stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    throw e;
  });
}

void main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
