/**
 * How a fleet's errors name a field: in construct props terms (`fleet:
 * cpcs[0].secretOverrides`) or, for props read from a fleet file, in the
 * file's terms (`fleet.yaml: clusters[1].secretOverrides`). A rule is checked
 * once, by the fleet; only its spelling of the field depends on where the
 * value came from. Module-internal (not exported from the package).
 */
export interface FleetFieldNames {
  /** What the fields are in: the construct path or the file. */
  readonly where: string;
  /** The list of CPCs: `cpcs` (props) or `clusters` (file). */
  readonly cpcList: string;
  /** A field of the CSC's own settings, e.g. `csc.secretOverrides`. */
  csc(field: string): string;
  /** A field of the CPC at `index` in `cpcs`, e.g. `cpcs[0].secretOverrides`. */
  cpc(index: number, field: string): string;
}

const named = new WeakMap<object, FleetFieldNames>();

/** Records that `props` came from a source with its own field names (a fleet file). */
export function withFieldNames<T extends object>(props: T, names: FleetFieldNames): T {
  named.set(props, names);
  return props;
}

/** The field names of `props`: the source's, or the construct props'. */
export function fieldNamesOf(props: object, where: string): FleetFieldNames {
  return named.get(props) ?? {
    where,
    cpcList: 'cpcs',
    csc: (field) => `csc.${field}`,
    cpc: (index, field) => `cpcs[${index}].${field}`,
  };
}
