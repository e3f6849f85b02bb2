/**
 * Test helper: per-cluster intermediates of a fleet root, issued as
 * `dsx-event-bus synth` issues them (the names of fleetIntermediateNames),
 * and the fleet props that use them (the root without its key).
 */
import { CertificateAuthority, ClusterCertificates, EventBusCluster, EventBusFleetProps } from '../../src';
import type { IntermediateNames } from '../../src/certificates/name-constraints';
import { fleetIntermediateNames } from '../../src/charts/fleet';
import { EvaluationCa, generateClusterIntermediate } from '../../src/cli/evaluation';

/** Intermediates by cluster folder name (`csc`, `cpc-<id>`). */
export type Intermediates = Map<string, EvaluationCa>;

/** The names of each cluster's intermediate, the ids checked where they enter (EventBusCluster.csc), as synth does with a file's. */
export function intermediateNames(props: EventBusFleetProps): IntermediateNames[] {
  return fleetIntermediateNames(props, EventBusCluster.csc({ cpcIds: props.cpcs.map((c) => c.id) }));
}

/** One intermediate per cluster of `props`, signed by `root`. */
export async function issueIntermediates(props: EventBusFleetProps, root: EvaluationCa): Promise<Intermediates> {
  const names = intermediateNames(props);
  const issued = await Promise.all(names.map((n) => generateClusterIntermediate({ ...n, root })));
  return new Map(names.map((n, i) => [n.cluster, issued[i]]));
}

/** `props` with `certificates.ca` = the root's certificate only and each member's intermediateCa. */
export function withIntermediates(props: EventBusFleetProps, root: EvaluationCa, intermediates: Intermediates): EventBusFleetProps {
  const of = (cluster: string) => {
    const ica = intermediates.get(cluster);
    if (!ica) throw new Error(`no intermediate for ${cluster}`);
    return CertificateAuthority.intermediateFromPem(ica.certPem, ica.keyPem, root.certPem);
  };
  return {
    ...props,
    certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(root.certPem), props.certificates),
    csc: { ...props.csc, intermediateCa: of('csc') },
    cpcs: props.cpcs.map((c) => ({ ...c, intermediateCa: of(`cpc-${c.id}`) })),
  };
}
