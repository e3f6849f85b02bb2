import { manifestErrors, validateManifests } from './schema';
import { findSeeds } from './seeds';
import { NKeyKind, NKeySeed } from '../../src';

// The proof helpers must themselves reject what they are meant to reject.
describe('schema validation helper', () => {
  const gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'event-bus-gateway', namespace: 'dsx' },
    spec: {
      gatewayClassName: 'eg',
      listeners: [{ name: 'mqtt-mtls', protocol: 'TLS', port: 8883, tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'All' } } }],
    },
  };

  test('accepts a valid Gateway and Secret', () => {
    expect(validateManifests([gateway, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nats-xkey' }, data: { pubkey: 'eA==' } }])).toBe(2);
  });

  test('fails on an unknown field (strict field validation, like kubectl)', () => {
    const bad = { ...gateway, spec: { ...gateway.spec, gatewayClass: 'eg' } };
    expect(manifestErrors(bad).join('\n')).toMatch(/must NOT have additional properties: gatewayClass/);
  });

  test('fails on a wrong type, a bad name and an unknown kind', () => {
    expect(manifestErrors({ ...gateway, spec: { ...gateway.spec, listeners: [{ ...gateway.spec.listeners[0], port: '8883' }] } }).join()).toMatch(/port must be integer/);
    expect(manifestErrors({ ...gateway, metadata: { name: 'Event_Bus' } }).join()).toMatch(/not a DNS-1123 subdomain/);
    expect(manifestErrors({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }).join()).toMatch(/no schema for example.com\/v1 Widget/);
    expect(manifestErrors({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 5 } }).join()).toMatch(/must be string/);
  });

  test('fails on a version the pinned CRD does not serve', () => {
    expect(manifestErrors({ apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret', metadata: { name: 'x' }, spec: {} }).join()).toMatch(/not served/);
  });
});

describe('seed scanner', () => {
  const seed = NKeySeed.generate(NKeyKind.USER).reveal();
  test('finds plain and base64-encoded seeds, and nothing in public keys', () => {
    expect(findSeeds(`x: ${seed}`)).toEqual([seed]);
    expect(findSeeds(`data:\n  seed: ${Buffer.from(seed).toString('base64')}`)).toEqual([seed]);
    expect(findSeeds(`k: ${Buffer.from('prefix:' + seed).toString('base64')}`)).toEqual([seed]);
    expect(findSeeds(`pubkey: ${NKeySeed.generate(NKeyKind.USER).publicKey.value}`)).toEqual([]);
  });
});
