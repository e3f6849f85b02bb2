/**
 * Test keys are loud: output made from a key store whose seeds anyone can
 * derive (`IKeyStore.testOnly`, e.g. `DeterministicKeyStore`) is labelled on
 * every object and warned about, and the deliveries that put key values into
 * objects refuse such a store unless told otherwise.
 */
import { problem, warnOnce } from '../errors';
import type { IKeyStore } from '../keys/store';
import { TEST_KEYS_LABEL, testKeysLabel } from '../labels';
import { SecretsDelivery, SecretsDeliveryKind } from './delivery';

/** The labels of objects made from `keys`: `{ [TEST_KEYS_LABEL]: "true" }` for a test store, none otherwise. */
export function testKeysLabels(keys: IKeyStore | undefined): Record<string, string> {
  return testKeysLabel(keys?.testOnly === true);
}

/**
 * Refuses a test store with a delivery that carries key values (inline,
 * sealedSecrets) unless that delivery has `allowTestKeys`, and warns (once
 * per process) about any test store; `where` is the construct using it.
 */
export function checkTestKeys(keys: IKeyStore | undefined, delivery: SecretsDelivery, where: string): void {
  if (keys?.testOnly !== true) return;
  if (delivery._needsValues && !delivery.allowTestKeys) {
    throw problem({
      where,
      field: 'delivery',
      problem: `keys is a test key store (${keys.description}): anyone can derive its seeds, and ${delivery.kind} delivery would write them into the output`,
      allowed: 'a test key store with inline or sealedSecrets delivery only when the delivery sets allowTestKeys',
      fix: `for tests and snapshot tests, opt in with ${delivery.kind === SecretsDeliveryKind.SEALED_SECRETS ? 'SecretsDelivery.sealedSecrets({ ..., allowTestKeys: true })' : 'SecretsDelivery.inline({ allowTestKeys: true })'}; for a real cluster, use DirectoryKeyStore.open(dir) with the keys dsx-event-bus nkeys wrote`,
    });
  }
  warnOnce('DSX_TEST_KEYS', `keys (${keys.description}) is a test key store: anyone can derive its seeds. Every object made from it carries the label ${TEST_KEYS_LABEL}: "true"; never deploy it to a cluster that matters. For real keys, run dsx-event-bus nkeys and use DirectoryKeyStore.open(dir)`);
}
