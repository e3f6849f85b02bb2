export { LeafConnection } from './leaf-connection';
export type { LeafConnectionProps, LeafPairDescription } from './leaf-connection';
