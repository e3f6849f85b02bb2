/**
 * `npm run bench`: runs every bench/*.bench.ts in name order and prints its
 * figures with the machine they were measured on. Speed is measured here, not
 * in timed tests. Each bench module exports `run(): Promise<BenchRow[]>`.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** One measured figure. */
export interface BenchRow {
  readonly name: string;
  readonly value: string;
  readonly goal?: string;
  readonly ok?: boolean;
}

async function main() {
  const only = process.argv[2];
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only))).sort();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}`);
  let failed = 0;
  for (const file of files) {
    console.log(`\n## ${file.replace(/\.bench\.ts$/, '')}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const rows: BenchRow[] = await require(path.join(__dirname, file)).run();
    for (const r of rows) {
      const verdict = r.ok === undefined ? '' : r.ok ? '  ok' : '  MISSED';
      if (r.ok === false) failed++;
      console.log(`${r.name.padEnd(48)} ${r.value.padStart(18)}${r.goal ? `  (goal ${r.goal})` : ''}${verdict}`);
    }
  }
  if (!files.length) console.log('no benchmarks found');
  process.exitCode = failed ? 1 : 0;
}

void main();
