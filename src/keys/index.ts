export { NKeyKind, NKeyPublicKey, NKeySeed } from './nkey';
export type { IKeyStore, KeyStoreRequest } from './store';
export { DirectoryKeyStore } from './directory-store';
export type { DirectoryKeyStoreOptions } from './directory-store';
export { RotatableClusterKey, RotationStage, RotationTarget } from './rotation';
export type { AcceptedRotationKey, RevokedCpc, RotationStatus } from './rotation';
