/**
 * Constructs only read: validation and synthesis never create a key, even
 * when the store lacks some. Key generation is the explicit step before
 * synthesis, `DirectoryKeyStore.generateMissing(fleet.keyStoreRequest)`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { testFleetProps } from './fleet-props';
import { DirectoryKeyStore, EventBusFleet } from '../../src';
import { cleanupTempDirs, snapshot, tempDir } from '../util/keytree';

afterAll(() => cleanupTempDirs());

const EXTRA = ['LaunchLayer'];

function fleetOn(keys: DirectoryKeyStore, ids: string[]): { app: ReturnType<typeof Testing.app>; fleet: EventBusFleet } {
  const app = Testing.app();
  const fleet = new EventBusFleet(app, 'fleet', testFleetProps({ keys, extraAccounts: EXTRA }, ids));
  return { app, fleet };
}

describe('key generation is an explicit step, never a side effect of validate() or synth', () => {
  test('fails when the store lacks a CPC\'s keys: validate() and synthesis write nothing and name the explicit step; after it, synthesis passes', () => {
    const root = path.join(tempDir(), 'secrets');
    DirectoryKeyStore.open(root).generateMissing({ cpcIds: ['1'], extraAccounts: EXTRA });
    const before = snapshot(root);
    const keys = DirectoryKeyStore.open(root);
    const { app, fleet } = fleetOn(keys, ['1', '2']);
    const explicitStep = /key store directory .*: 5 key entries are missing \(listed below\)\. Fix: run `dsx-event-bus nkeys -o .* --extra-account LaunchLayer 1 2`, or create them before synthesis: DirectoryKeyStore\.open\(dir\)\.generateMissing\(request\)/;
    // Every construct's validate(), as cdk8s runs them before synthesis.
    expect(() => app.node.findAll().flatMap((c) => c.node.validate())).toThrow(explicitStep);
    expect(() => app.synthYaml()).toThrow(explicitStep);
    expect(() => fleet.cpc('2').toJson()).toThrow(explicitStep);
    // Byte for byte, mode and mtime: not one entry added or touched.
    expect(snapshot(root)).toEqual(before);

    expect(fleet.keyStoreRequest).toEqual({ cpcIds: ['1', '2'], extraAccounts: EXTRA });
    keys.generateMissing(fleet.keyStoreRequest);
    const after = snapshot(root);
    for (const [p, e] of Object.entries(before)) if (e.type === 'file') expect(after[p]).toEqual(e);
    expect(Object.keys(after).filter((p) => p.startsWith('cpc-2/nkeys/')).length).toBeGreaterThan(10);
    expect(app.synthYaml()).toContain('nats-leaf-launchlayer-csc');
    // Synthesis again (a new app on the same store) reads, and writes nothing.
    const again = fleetOn(DirectoryKeyStore.open(root), ['1', '2']);
    again.app.synthYaml();
    expect(snapshot(root)).toEqual(after);
  });

  test('fails when the key store does not exist: synthesis does not create it', () => {
    const root = path.join(tempDir(), 'secrets');
    const { app } = fleetOn(DirectoryKeyStore.open(root), ['1']);
    expect(() => app.synthYaml()).toThrow(/key entries are missing .*generateMissing\(request\)/);
    expect(fs.existsSync(root)).toBe(false);
  });

  test('keyStoreRequest names the CPCs added later too', () => {
    const { fleet } = fleetOn(DirectoryKeyStore.open(path.join(tempDir(), 'secrets')), ['1']);
    fleet.addCpc({ id: '7', gateway: { hostnames: ['cpc-7.example.com'] } });
    expect(fleet.keyStoreRequest).toEqual({ cpcIds: ['1', '7'], extraAccounts: EXTRA });
  });
});
