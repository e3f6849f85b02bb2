export * from './host-prerequisites';
