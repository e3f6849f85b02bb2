/**
 * What the rotation tests play of a Kubernetes rollout on the harness of
 * ./fleet.ts: whether a pod changed (its resolved env and mounted files), the
 * auth-callout Deployment's name, and a nats StatefulSet prepared again on
 * the ports its Service gave it.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ClusterObjects, materializePod, prepareNats, PreparedNats } from './fleet';

/** What a rollout compares: the pod's resolved env and every file it mounts (materialized under `scratch`, then removed). */
export function podFingerprint(objects: ClusterObjects, kind: string, name: string, container: string, scratch: string): string {
  const root = path.join(scratch, `fp-${crypto.randomBytes(4).toString('hex')}`);
  const pod = materializePod(objects, kind, name, container, root);
  const files = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const h = crypto.createHash('sha256').update(JSON.stringify(Object.entries(pod.env).sort()));
  for (const f of files(root).sort()) h.update(path.relative(root, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  fs.rmSync(root, { recursive: true, force: true });
  return h.digest('hex');
}

/** The name of the Deployment that runs the auth-callout container. */
export const calloutDeployment = (o: ClusterObjects): string =>
  o.all().find((x) => x.kind === 'Deployment' && x.spec.template.spec.containers.some((c: any) => c.name === 'auth-callout')).metadata.name;

/** Prepares a StatefulSet's nats again in its own pod root, on the ports it had (its Service), keeping its data folder. */
export async function prepareAgain(objects: ClusterObjects, old: PreparedNats, remoteHosts: Record<string, string>): Promise<PreparedNats> {
  const fresh = await prepareNats(objects, old.statefulSet, old.pod.root, remoteHosts);
  let text = fs.readFileSync(fresh.configFile, 'utf8');
  for (const k of ['port', 'http', 'leafnode', 'mqtt'] as const) {
    const re = new RegExp(`(": )${fresh.ports[k]}(,?\\n)`);
    if (!re.test(text)) throw new Error(`${objects.cluster}: port ${k} not found in the prepared config`);
    text = text.replace(re, `$1${old.ports[k]}$2`);
  }
  fs.writeFileSync(fresh.configFile, text, { mode: 0o600 });
  return { ...fresh, ports: old.ports };
}
