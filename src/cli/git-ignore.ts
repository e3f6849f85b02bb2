/**
 * Seeds must never be committed: a command that creates a key store (or an
 * export of one) inside
 * a git work tree where it is not ignored says so once, with the line to add
 * to `.gitignore`.
 *
 * How it decides: with git on the PATH, `git check-ignore -q <dir>` (run in
 * the folder above the new store) answers exactly, honouring every ignore
 * file and `core.excludesFile`; `git rev-parse --show-toplevel` names the
 * work tree. Without git, the nearest `.git` upwards marks a work tree, and
 * since the ignore rules cannot be evaluated without git, the warning is
 * given whenever the store is inside one.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CliIo } from './command';

/** The work tree holding `dir` and whether git ignores `dir`; undefined outside a work tree. */
function gitStatus(dir: string): { top: string; ignored: boolean } | undefined {
  const cwd = path.dirname(dir);
  const top = spawnSync('git', ['rev-parse', '--show-toplevel'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (top.error) {
    // No git: find `.git` upwards; the rules cannot be read, so count it as not ignored.
    for (let d = cwd; ; d = path.dirname(d)) {
      if (fs.existsSync(path.join(d, '.git'))) return { top: d, ignored: false };
      if (path.dirname(d) === d) return undefined;
    }
  }
  if (top.status !== 0) return undefined;
  const check = spawnSync('git', ['check-ignore', '-q', dir], { cwd, stdio: 'ignore' });
  return { top: top.stdout.trim(), ignored: check.status === 0 };
}

/**
 * Warns on stderr (once: call it when the folder was just created) when
 * `dir`, holding seeds, lies in a git work tree and is not ignored there.
 */
export function warnIfNotGitIgnored(dir: string, io: CliIo, what = 'the key store'): void {
  const abs = path.resolve(dir);
  let status: { top: string; ignored: boolean } | undefined;
  try {
    status = gitStatus(abs);
  } catch {
    return;
  }
  if (!status || status.ignored) return;
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  const rel = path.relative(real(status.top), real(abs)).split(path.sep).join('/');
  if (rel.startsWith('..')) return;
  io.err(`warning: ${what} ${dir} holds seeds and is inside the git work tree ${status.top}, which does not ignore it; add this line to ${path.join(status.top, '.gitignore')} before you commit:\n  /${rel}/\n`);
}
