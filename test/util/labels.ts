import { Chart, Testing } from 'cdk8s';

/** The three labels every object of a construct family carries (`component`: secrets, certificates, gateway, …). */
export function standardLabels(component: string): Record<string, string> {
  return {
    'app.kubernetes.io/part-of': 'dsx-event-bus',
    'app.kubernetes.io/managed-by': 'cdk8s-dsx-event-bus',
    'app.kubernetes.io/component': component,
  };
}

/** The label of every object made from a test key store (`DeterministicKeyStore`). */
export const TEST_KEYS = { 'cdk8s-dsx-event-bus/test-keys': 'true' };

/** An empty chart of a fresh test app, in `namespace` (`null`: none). */
export function testChart(namespace: string | null = 'dsx'): Chart {
  return new Chart(Testing.app(), 'test', { namespace: namespace ?? undefined });
}
