import { NKeyKind } from '../../src';
import { EventBusError } from '../../src/errors';
import {
  accountEnvToken, accountSecretToken, BASE_SECRETS, describeKeyFile, fleetKeyFiles,
  validateCpcId, validateExtraAccounts, validateUniqueCpcIds,
} from '../../src/keys/layout';
import { DeterministicKeyStore } from '../../src/testing';

describe('key-store layout', () => {
  test('the base set is what upstream generate-nkeys.sh writes', () => {
    expect(BASE_SECRETS.map((s) => `${s.secretName}: ${s.files.map((f) => f.key).join(', ')}`)).toEqual([
      'nats-auth-signing: seed, pubkey',
      'nats-xkey: seed, pubkey',
      'nats-authx-user: seed, pubkey',
      'nats-nack-user: seed, pubkey, nack-user.nk',
      'nats-mtls-leaf: seed, pubkey',
      'nats-mtls-authx-leaf: seed, pubkey',
      'nats-mtls-sys-leaf: seed, pubkey',
      'nats-surveyor: seed, pubkey',
      'auth-callout-keys: nkey-seed, issuer-seed, xkey-seed',
    ]);
  });

  test('copies resolve to their sources with the source kind', () => {
    expect(describeKeyFile('csc', 'auth-callout-keys', 'issuer-seed')).toEqual({ origin: 'csc/nats-auth-signing', kind: NKeyKind.ACCOUNT, form: 'seed' });
    expect(describeKeyFile('cpc-7', 'auth-callout-keys', 'xkey-seed')).toEqual({ origin: 'cpc-7/nats-xkey', kind: NKeyKind.CURVE, form: 'seed' });
    expect(describeKeyFile('csc', 'nats-nack-user', 'nack-user.nk').origin).toBe('csc/nats-nack-user');
  });

  test('both sides of a leaf pair share one origin', () => {
    expect(describeKeyFile('csc', 'nats-leaf-cpc-1', 'pubkey').origin).toBe(describeKeyFile('cpc-1', 'nats-leaf-csc', 'seed').origin);
    expect(describeKeyFile('csc', 'nats-leaf-launchlayer-cpc-1', 'pubkey').origin)
      .toBe(describeKeyFile('cpc-1', 'nats-leaf-launchlayer-csc', 'seed').origin);
    expect(describeKeyFile('csc', 'nats-leaf-launchlayer-cpc-1', 'pubkey').origin).not.toBe(describeKeyFile('csc', 'nats-leaf-cpc-1', 'pubkey').origin);
  });

  test('fails when a file is not part of the layout', () => {
    expect(() => describeKeyFile('csc', 'nats-leaf-cpc-1', 'seed')).toThrow(/the CSC side of a leaf pair holds only pubkey/);
    expect(() => describeKeyFile('cpc-1', 'nats-leaf-csc', 'pubkey')).toThrow(/the CPC side of a leaf pair holds only seed/);
    expect(() => describeKeyFile('csc', 'nats-leaf-csc', 'seed')).toThrow(/unknown secret "nats-leaf-csc" for cluster csc/);
    expect(() => describeKeyFile('dc-1', 'nats-xkey', 'seed')).toThrow(/unknown cluster "dc-1"/);
    expect(() => describeKeyFile('csc', 'nats-xkey', 'xkey.nk')).toThrow(/secret nats-xkey has no key "xkey.nk"/);
  });

  test('tokens follow the chart helpers', () => {
    expect(accountSecretToken('LaunchLayer')).toBe('launchlayer');
    expect(accountEnvToken('LaunchLayer')).toBe('LAUNCHLAYER');
    expect(accountSecretToken('-A_b.C-')).toBe('a-b-c');
    expect(accountEnvToken('a-b')).toBe('A_B');
  });

  test('fleet key files: 20 per cluster plus 2 per leaf pair', () => {
    expect(fleetKeyFiles(['1', '2'], ['launchlayer'])).toHaveLength(3 * 20 + 2 * 2 * 2);
  });

  describe('naming rules', () => {
    test.each(['1', 'a1', 'zz9'])('accepts CPC id %s', (id) => expect(() => validateCpcId(id, 'x')).not.toThrow());
    test.each(['', 'A', 'cpc_1', '1.2', 'a-b', ' 1'])('fails when the CPC id is %j', (id) => {
      expect(() => validateCpcId(id, 'cpcIds')).toThrow(/^cpcIds: CPC id ".*" is invalid\. Allowed: lower-case letters and digits only/);
    });
    // Found by test/proof/fuzz.test.ts: a number crashed the message (id.toLowerCase), and 7 passed as "7".
    test.each([7, null, undefined])('fails when the CPC id is not a string (%j)', (id) => {
      expect(() => validateCpcId(id as unknown as string, 'cpcs')).toThrow(EventBusError);
      expect(() => validateCpcId(id as unknown as string, 'cpcs')).toThrow(/^cpcs: CPC id .* is a (number|null|undefined), not a string\. Allowed: a string of lower-case letters and digits/);
    });
    test('fails when a CPC id is longer than 63 characters', () => {
      expect(() => validateCpcId('a'.repeat(63), 'x')).not.toThrow();
      expect(() => validateCpcId('a'.repeat(64), 'cpcIds')).toThrow(/^cpcIds: CPC id "a{20}…" is 64 characters long\. Allowed: at most 63 characters/);
    });
    test('fails when a CPC id is listed twice', () => {
      expect(() => validateUniqueCpcIds(['1', '2', '1'], 'cpcIds')).toThrow(/CPC id "1" is listed twice/);
    });
    test.each([
      ['1abc', /is not a valid NATS account name/],
      ['Launch-Layer', /is not a valid NATS account name/],
      ['sys', /conflicts with a built-in NATS account name/],
      ['AuthX', /conflicts with a built-in NATS account name/],
      ['cpcExtra', /starts with "cpc"/],
      ['CPC2', /starts with "cpc"/],
    ])('fails when the extra account is %s', (name, message) => {
      expect(() => validateExtraAccounts([name], '--extra-account')).toThrow(message);
    });
    test('fails when two accounts share a token', () => {
      expect(() => validateExtraAccounts(['LaunchLayer', 'launchlayer'], 'extraAccounts'))
        .toThrow(/extra account "launchlayer" normalizes to secret token launchlayer, which is already used by extra account "LaunchLayer"/);
      expect(() => validateExtraAccounts(['Kiwi', 'Kiwi'], 'extraAccounts')).toThrow(/extra account "Kiwi" is listed twice/);
    });
  });
});

describe('DeterministicKeyStore', () => {
  const store = new DeterministicKeyStore();

  test('is stable across instances and differs by phrase', () => {
    const again = new DeterministicKeyStore();
    const other = new DeterministicKeyStore({ phrase: 'another phrase' });
    expect(again.readPublicKey('csc', 'nats-xkey').value).toBe(store.readPublicKey('csc', 'nats-xkey').value);
    expect(other.readPublicKey('csc', 'nats-xkey').value).not.toBe(store.readPublicKey('csc', 'nats-xkey').value);
  });

  test('every file of a fleet has the right kind, and copies and leaf sides agree', () => {
    for (const f of fleetKeyFiles(['1', '22'], ['launchlayer'])) {
      const info = describeKeyFile(f.cluster, f.secretName, f.key);
      const value = info.form === 'seed' ? store.readSeed(f.cluster, f.secretName, f.key) : store.readPublicKey(f.cluster, f.secretName, f.key);
      expect(value.kind).toBe(info.kind);
    }
    expect(store.readSeed('csc', 'auth-callout-keys', 'nkey-seed').sameKeyAs(store.readSeed('csc', 'nats-authx-user'))).toBe(true);
    expect(store.readSeed('cpc-22', 'nats-leaf-launchlayer-csc').publicKey.value).toBe(store.readPublicKey('csc', 'nats-leaf-launchlayer-cpc-22').value);
    expect(store.readSeed('cpc-1', 'nats-authx-user').sameKeyAs(store.readSeed('csc', 'nats-authx-user'))).toBe(false);
  });

  test('ensure() applies the naming rules', () => {
    expect(() => store.ensure({ cpcIds: ['1', '2'], extraAccounts: ['LaunchLayer'] })).not.toThrow();
    expect(() => store.ensure({ cpcIds: ['CPC1'] })).toThrow(/CPC id "CPC1" is invalid/);
  });

  test('fails when asked for a seed from a public-key file', () => {
    expect(() => store.readSeed('csc', 'nats-leaf-cpc-1', 'pubkey')).toThrow(/holds a public key, not a seed/);
    expect(() => store.readPublicKey('csc', 'auth-callout-keys', 'nkey-seed')).toThrow(/holds a seed, not a public key/);
  });
});
