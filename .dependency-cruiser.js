/**
 * The import graph of src/ (issue 12, "layers you can see"), checked by
 * `npx projen test:deps` (part of `npx projen test`): scripts/import-graph.mjs
 * runs dependency-cruiser with these rules and prints the graph's size.
 *
 * Layers, bottom up (LAYERS below): a module may import its own layer and the
 * layers below it, never one above (no upward arrows).
 */

/** The layers of src/, bottom up; each entry lists the folders (or root files) of one layer. */
const LAYERS = [
  ['redact'],
  ['errors'],
  ['endpoint', 'k8s'], // URL parsing; Kubernetes name rules
  ['labels', 'files'], // standard labels; atomic writes, the output tree, the lock
  ['keys'], // NKey codec, key-store layout and IKeyStore; keys/engine is its file engine
  ['testing'], // DeterministicKeyStore
  ['secrets'], // the Secrets the chart reads, their delivery, TLS Secret references
  ['certificates', 'connections'], // cert-manager objects; leaf pairs across clusters
  ['gateway'], // Gateway API
  ['gitops'], // Argo CD and Flux wiring of the output
  ['charts'], // CSC/CPC charts, the fleet, the output layer (EventBusApp)
  ['cli'],
  ['index'],
];
const pathOf = (names) => `^src/(${names.join('|')})(/|\\.ts$)`;
const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('-')}`,
  severity: 'error',
  comment: `${layer.join(', ')} may not import a layer above it (${LAYERS.slice(i + 1).flat().join(', ')}): move the shared piece down instead.`,
  from: { path: pathOf(layer) },
  to: { path: pathOf(LAYERS.slice(i + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle (a lazy require included) means two modules cannot be understood or changed apart.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-type-only-cycle',
      severity: 'error',
      comment: 'A cycle through `import type` (e.g. a listener naming its gateway) does not exist at run time, but the two modules still cannot be understood or changed apart: name the other side by an interface of a module below both (as src/gateway/contracts.ts does).',
      from: {},
      to: { circular: true, via: { dependencyTypes: ['type-only'] } },
    },
    {
      name: 'key-store-engine-is-pure',
      severity: 'error',
      comment: 'The key store and its file engine load no cdk8s/constructs and nothing of the construct folders or the CLI.',
      from: { path: '^src/keys/' },
      to: { path: ['^node_modules/(cdk8s|cdk8s-plus-[0-9]+|constructs)/', '^src/(charts|secrets|gateway|certificates|connections|cli|imports|testing)/'] },
    },
    {
      name: 'library-never-imports-cli',
      severity: 'error',
      comment: 'The CLI is built on the library, never the other way round.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'crd-bindings-only-in-their-wrappers',
      severity: 'error',
      comment: 'The generated bindings in src/imports/ are used only by the constructs that wrap them.',
      from: { path: '^src/', pathNot: ['^src/imports/', '^src/(certificates|gateway|gitops)/', '^src/secrets/delivery\\.ts$'] },
      to: { path: '^src/imports/' },
    },
    {
      name: 'no-upward-escape',
      severity: 'error',
      comment: "No module reaches back to the package index (require('../..')) or out of src/ (tests, lib, shared files).",
      from: { path: '^src/.+/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'src-stays-in-src',
      severity: 'error',
      comment: "The library reads nothing outside the package (no ../shared, no test helpers); the CLI's --version reads the package's own package.json.",
      from: { path: '^src/' },
      to: { pathNot: ['^src/', '^node_modules/', '^package\\.json$'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '^node_modules' },
    // Lazy require() calls count: they are edges of the graph too.
    parser: 'tsc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.dev.json' },
    exoticRequireStrings: [],
  },
};
