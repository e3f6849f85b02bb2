// Test helpers, kept apart from the production types: import them as
// `import { testing } from 'cdk8s-dsx-event-bus'` (a jsii submodule).
export * from './deterministic-key-store';
