export { NKeyKind, NKeyPublicKey, NKeySeed } from './nkey';
export { DeterministicKeyStore } from './store';
export type { IKeyStore, KeyStoreRequest, DeterministicKeyStoreProps } from './store';
export { DirectoryKeyStore } from './directory-store';
export type { DirectoryKeyStoreOptions } from './directory-store';
