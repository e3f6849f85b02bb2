// Prints "N passed, N failed" from jest-junit's report and exits non-zero on
// any failure. Before it, one line per proof report (test-reports/proof-*.json). Failures outside jest (type tests, eslint, the seed guard, the demo) count
// as one failed test each, so a red run can never print "0 failed".
const fs = require('fs');
const path = require('path');
// The first two arguments are comma-separated and paired: one jest-junit
// report per test command (npm test, npm run test:consumer) and that
// command's exit code. The third counts the failed checks .ci/run made outside
// jest (the seed guard, npm run demo).
const [filesText, rcText, otherFailuresText] = process.argv.slice(2);
const files = filesText.split(',');
const rcs = String(rcText ?? 0).split(',').map(Number);
let tests = 0, failures = 0, errors = 0, skipped = 0, outside = 0;
files.forEach((file, i) => {
  let fileFailed = 0;
  if (fs.existsSync(file)) {
    const xml = fs.readFileSync(file, 'utf8');
    for (const m of xml.matchAll(/<testsuite\s[^>]*>/g)) {
      const attr = (name) => Number((new RegExp(`\\s${name}="(\\d+)"`).exec(m[0]) || [])[1] || 0);
      tests += attr('tests'); failures += attr('failures'); errors += attr('errors'); skipped += attr('skipped');
      fileFailed += attr('failures') + attr('errors');
    }
  } else {
    console.log(`no jest report at ${file}: jest did not run (see the output above)`);
  }
  if ((rcs[i] ?? 0) !== 0 && fileFailed === 0) {
    console.log(`the command that writes ${file} failed outside jest (type tests, eslint, or jest itself): counted as 1 failed`);
    outside += 1;
  }
});
let failed = failures + errors;
const passed = tests - failed - skipped;
failed += outside;
failed += Number(otherFailuresText ?? 0);
if (skipped) console.log(`${skipped} skipped`);
for (const line of proofLines(path.dirname(files[0]))) console.log(line);
const consumerLine = consumerTimes(path.join(path.dirname(files[0]), 'consumer-times.json'));
if (consumerLine) console.log(consumerLine);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

// One line per test-reports/proof-*.json written by the suites in test/proof/.
function proofLines(dir) {
  const describe = {
    'schema': (r) => `${r.objects} objects schema-validated in ${r.scenarios} scenarios`,
    'fuzz': (r) => `${r.cases} fuzz cases (seed ${r.seed}): ${r.doc.synthesized + r.props.synthesized} synthesized and schema-valid, ${r.cases - r.doc.synthesized - r.props.synthesized} refused with our error`,
    'seed-leak': (r) => `${r.seedsFound} seeds in ${r.files} synthesized files of ${r.scenarios} non-inline syntheses (positive control: ${r.controlSeeds} found)`,
    'nats': (r) => `${r.keysAuthenticated} NKeys authenticated against nats-server ${r.server}, ${r.seedsRefused} foreign seeds refused`,
    'redaction': (r) => `${r.cases} seed-redaction cases (${r.inProcess} in-process, ${r.childProcess} child processes) over ${Object.keys(r.paths).length} input paths: ${r.leaks} leaks, ${r.redactedInOutput} outputs where a seed arrived and was redacted; ${r.directRedactorCases} direct redactor cases`,
    'input-limits': (r) => `${r.keys} keys (${Math.round(r.bytes / 1024)} KB) of fleet file parsed and checked for duplicate keys in ${r.ms} ms (${r.cpuMs} ms CPU; the quadratic check took 24 s)`,
    'fleet': (r) => `fleet of CSC + 2 CPCs from ${r.clustersRendered} helm-rendered clusters (chart ${r.chart}, ${r.helm}, ${r.natsServer}): ${r.natsServersStarted} nats-servers, leafs formed ${r.leafsFormed.tls} via TLS proxy + ${r.leafsFormed.tcp} direct, ${r.messagesCrossed} messages crossed, refusals: ${r.refusals.unknownSeedLeafRemotes} leaf remotes with unknown seeds (${r.refusals.calloutDenials} callout denials) + ${r.refusals.wrongSni} wrong SNI + ${r.refusals.nameConstraints ?? 0} certificates outside an intermediate's name constraints, ${r.mqttPublished} MQTT publish over mTLS, ${r.tlsFirstClients} TLS-first client`,
    'demo': (r) => `npm run demo's output (examples/fleet.yaml via the CLI) run as rendered: ${r.clustersRendered} helm-rendered clusters, ${r.natsServersStarted} nats-servers, leafs formed ${r.leafsFormed} via TLS proxy at the CSC's DNS name (${r.dnsStandInRewrites} DNS stand-in rewrites, ${r.proxyHandshakes} proxy handshakes), ${r.messagesCrossed} messages crossed, ${r.refusedByAddress} remotes refused dialling by address, ${r.seedShapedPrinted} seed-shaped outputs`,
    'rotation': (r) => `leaf rotation of CPC 1 on the running fleet: leaf downtime per stage ${r.stages.map((s) => `${s.stage} ${s.leafDowntimeMs} ms`).join(', ')}; `
      + `JetStream acked/stored ${Object.entries(r.publishers).map(([k, p]) => `${k} ${p.acked}/${p.stored}`).join(', ')}; refused: ${r.refusals.wrongOrderLeaf} wrong-order leafs, ${r.refusals.revokedLeaf} revoked leafs, ${r.refusals.wrongOrderMtlsLeaf} wrong-order mTLS leaf`,
    'rotation-auth-callout': (r) => `the CSC's auth-callout keys on the running fleet (${r.wrongOrder.calloutRefused ? 'wrong order refused' : 'WRONG ORDER NOT REFUSED'}): `
      + r.stages.map((s) => `${s.target} ${s.stage}: logins refused ${s.loginsRefusedMs} ms (${s.loginsRefusedWhileUpMs} ms by a running nats), leaf down ${s.leafDowntimeMs} ms`).join('; '),
    'output': (r) => `synth killed with SIGKILL at ${r.killed} random steps (${r.killedOld} left the complete old output, ${r.killedNew} the complete new one after recovery) and ${r.externalKills} random moments, ${r.concurrent} concurrent pairs, ${r.diskFull} full-disk runs${r.diskFullSkipped ? ` (full disk skipped: ${r.diskFullSkipped})` : ''}: never a mixed output (seed ${r.seed})`,
    'gitops': (r) => `GitOps wiring: ${r.schemaValid.argocd} Argo CD objects and ${r.schemaValid.applications} generated Applications, ${r.schemaValid.flux} Flux objects valid against the full CRDs; ${r.kustomizeBuilds} real kustomize builds; `
      + `the chart rendered from exactly the referenced values for ${r.chartRenders.argocd} Applications and ${r.chartRenders.flux} HelmReleases (${r.contractReferences} references checked); Argo CD management objects ${Object.entries(r.managementObjects).map(([f, n]) => `${n} for ${f}`).join(', ')}`,
    'faults': (r) => `${r.cases} faults injected into synth, export, certs and nkeys runs (the key-store fault table is in test/cli/nkeys.test.ts)`,
    'contract': (r) => `${r.scenarios} scenarios rendered by the real chart (${r.renders} helm template runs): checked ${r.references} Secret/ConfigMap references (${r.fileReferences} through files), `
      + `${r.routes} routes against the Gateway's listeners, ${r.leafRemotes} leaf remotes against the CSC's listener, ${r.keyPairs} leaf key pairs derived, ${r.caCompared ?? 0} CPC trust bundles against the CSC's CA, ${r.objectsCompared} objects for duplicates`
      + (r.awaiting && (r.awaiting['e2e-tls'] || r.awaiting['e2e-values']) ? `; ${r.awaiting['e2e-tls'] + r.awaiting['e2e-values']} problems of known bugs awaiting their fixes (e2e-tls: ${r.awaiting['e2e-tls']}, e2e-values: ${r.awaiting['e2e-values']})` : ''),
  };
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((f) => /^proof-.+\.json$/.test(f)).sort();
  } catch {
    return [];
  }
  return names.map((f) => {
    const name = f.slice('proof-'.length, -'.json'.length);
    try {
      const report = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      return `proof: ${describe[name] ? describe[name](report) : `${name} ${JSON.stringify(report)}`}`;
    } catch (e) {
      return `proof: ${name}: unreadable report (${e.message})`;
    }
  });
}

// One line from test-reports/consumer-times.json (test/consumer/): steps run, total time, versions installed.
function consumerTimes(file) {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8'));
    const v = Object.entries(r.versions).map(([variant, p]) => `${variant}: TypeScript ${p.typescript}, @types/node ${p['@types/node']}, ${p['cdk8s-plus-33'] ? `cdk8s-plus-33 ${p['cdk8s-plus-33']}` : `cdk8s-plus-27 ${p['cdk8s-plus-27']}`}`);
    return `consumer: ${r.times.length} steps in a cdk8s init typescript-app with the packed package, ${Math.round(r.wallMs / 1000)} s (${v.join('; ')})`;
  } catch {
    return undefined;
  }
}
