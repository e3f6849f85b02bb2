/** jest's globalTeardown: see test/util/global-setup.ts. */
export { globalTeardown as default } from './global-setup';
