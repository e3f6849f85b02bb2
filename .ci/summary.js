// Prints "N passed, N failed" from jest-junit's report and exits non-zero on
// any failure. Failures outside jest (type tests, eslint, the seed guard) count
// as one failed test each, so a red run can never print "0 failed".
const fs = require('fs');
const [file, rcText, seedGuardText] = process.argv.slice(2);
const rc = Number(rcText ?? 0);
let tests = 0, failures = 0, errors = 0, skipped = 0;
if (fs.existsSync(file)) {
  const xml = fs.readFileSync(file, 'utf8');
  for (const m of xml.matchAll(/<testsuite\s[^>]*>/g)) {
    const attr = (name) => Number((new RegExp(`\\s${name}="(\\d+)"`).exec(m[0]) || [])[1] || 0);
    tests += attr('tests'); failures += attr('failures'); errors += attr('errors'); skipped += attr('skipped');
  }
} else {
  console.log(`no jest report at ${file}: jest did not run (see the type-check output above)`);
}
let failed = failures + errors;
const passed = tests - failed - skipped;
if (rc !== 0 && failed === 0) {
  console.log('the test task failed outside jest (type tests or eslint): counted as 1 failed');
  failed += 1;
}
if (Number(seedGuardText ?? 0) !== 0) failed += 1;
if (skipped) console.log(`${skipped} skipped`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
