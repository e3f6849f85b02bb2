// `npx projen test:deps`: the import graph of src/ against the rules in
// .dependency-cruiser.js (no cycles, no upward arrows). Prints the graph's
// size, its cycles and every violation; exits 1 on any violation.
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const options = await extractDepcruiseOptions('./.dependency-cruiser.js');
const tsConfig = extractTSConfig('./tsconfig.dev.json');
const { output } = await cruise(['src'], options, {}, { tsConfig });
const { summary } = output;

// One cycle, however many of its edges were reported: its sorted members.
const cyclesOf = (rule) => new Set(
  summary.violations
    .filter((v) => v.rule.name === rule)
    .map((v) => [v.from, ...(v.cycle ?? []).map((c) => c.name ?? c)].filter((m, i, all) => all.indexOf(m) === i).sort().join(' + ')),
).size;
console.log(`import graph of src/: ${summary.totalCruised} modules, ${summary.totalDependenciesCruised} dependencies, cycles=${cyclesOf('no-circular')} (type-only: ${cyclesOf('no-type-only-cycle')}), errors=${summary.error}, warnings=${summary.warn}`);
for (const v of summary.violations) {
  const cycle = v.cycle?.length ? ` (cycle: ${v.cycle.map((c) => c.name ?? c).join(' -> ')})` : '';
  console.log(`  ${v.rule.severity} ${v.rule.name}: ${v.from} -> ${v.to}${cycle}`);
}
process.exit(summary.error > 0 ? 1 : 0);
