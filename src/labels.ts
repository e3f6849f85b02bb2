/**
 * The recommended Kubernetes labels
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/)
 * that every object this library emits carries, and the merge of a
 * construct's `metadata` prop with them. User labels win over these.
 */
import type { ApiObjectMetadata } from 'cdk8s';
import { validateAnnotations, validateLabels, validateNamespace, validateObjectName } from './k8s/names';

/** `app.kubernetes.io/part-of` of everything the library emits. */
export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
/** `app.kubernetes.io/managed-by` of everything the library emits. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** `app.kubernetes.io/component`: which part of the event bus an object belongs to. */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

/**
 * The label of every object made from a test key store (`IKeyStore.testOnly`,
 * e.g. `DeterministicKeyStore`), value `"true"`: anyone can derive those
 * seeds, so an admission policy or a reviewer can refuse such objects.
 */
export const TEST_KEYS_LABEL = 'cdk8s-dsx-event-bus/test-keys';

/** `{ [TEST_KEYS_LABEL]: "true" }` for objects made from a test key store, none otherwise. */
export function testKeysLabel(marked: boolean): Record<string, string> {
  return marked ? { [TEST_KEYS_LABEL]: 'true' } : {};
}

/** Components (values of `app.kubernetes.io/component`). */
export type Component = 'secrets' | 'certificates' | 'gateway' | 'trust' | 'host-prerequisites';

/** The three labels of an object of `component`. */
export function standardLabels(component: Component): Record<string, string> {
  return {
    [PART_OF_LABEL]: 'dsx-event-bus',
    [MANAGED_BY_LABEL]: 'cdk8s-dsx-event-bus',
    [COMPONENT_LABEL]: component,
  };
}

/** A construct's `metadata` prop, checked, with the standard labels under the user's. */
export interface ResolvedMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/**
 * Checks `metadata` (name, namespace, labels, annotations) where the construct
 * received it, and fills in the default name and the standard labels.
 */
export function resolveMetadata(
  metadata: ApiObjectMetadata | undefined, component: Component, defaultName: string, where: string, what: string,
): ResolvedMetadata {
  const m = metadata ?? {};
  const name = m.name ?? defaultName;
  validateObjectName(name, where, what);
  if (m.namespace !== undefined) validateNamespace(m.namespace, where);
  validateLabels(m.labels ?? {}, where);
  validateAnnotations(m.annotations ?? {}, where);
  return {
    name,
    namespace: m.namespace,
    labels: { ...standardLabels(component), ...m.labels },
    annotations: m.annotations && Object.keys(m.annotations).length ? { ...m.annotations } : undefined,
  };
}
