// The package's public API. Each folder re-exports only what users need;
// generated CRD bindings (src/imports/) stay internal.
export * from './keys';
export * from './secrets';
export * from './certificates';
export * from './gateway';
export * from './connections';
export * from './charts';
// Test helpers (the deterministic key store) as a submodule of their own.
export * as testing from './testing';
