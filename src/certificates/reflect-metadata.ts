/**
 * The four Reflect metadata functions @peculiar/x509 needs (through
 * tsyringe and tslib's `__metadata`): `metadata`, `defineMetadata`,
 * `getMetadata`, `getOwnMetadata`. Installed only when no polyfill
 * (reflect-metadata, core-js) is present, and only in the processes that
 * generate certificates (the `certs` command, tests).
 *
 * TODO(deps): replace with the `reflect-metadata` package once it is a dependency.
 */
type Target = object;
const store = new WeakMap<Target, Map<PropertyKey | undefined, Map<unknown, unknown>>>();

function own(target: Target, property: PropertyKey | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

export function ensureReflectMetadata(): void {
  const R = Reflect as any;
  if (typeof R.getMetadata === 'function') return;
  R.defineMetadata = (key: unknown, value: unknown, target: Target, property?: PropertyKey) => {
    own(target, property, true)!.set(key, value);
  };
  R.getOwnMetadata = (key: unknown, target: Target, property?: PropertyKey) => own(target, property, false)?.get(key);
  R.getMetadata = (key: unknown, target: Target, property?: PropertyKey) => {
    // Like reflect-metadata: walk the prototype chain (a class's parent is its prototype).
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t)) {
      const entries = own(t, property, false);
      if (entries?.has(key)) return entries.get(key);
    }
    return undefined;
  };
  R.metadata = (key: unknown, value: unknown) => (target: Target, property?: PropertyKey) => R.defineMetadata(key, value, target, property);
}
