/**
 * Stand-in for NACK, the JetStream controller the chart deploys
 * (https://github.com/nats-io/nack, its `nack` subchart): it creates the
 * `Stream` objects (jetstream.nats.io/v1beta2) the chart renders, here the
 * MQTT streams of templates/mqtt-streams.yaml, which the MQTT servers then use
 * instead of creating their own (nats-server's MQTT keeps an existing stream).
 *
 * What it does, as the controller does: reads its pod as rendered (the
 * `-s=` server URL and the `--nkey=` file the `nats-nack-user` Secret is
 * mounted as), connects with that NKey (the chart's auth-callout places it in
 * the cluster's account), and creates each Stream with the spec's settings
 * mapped to the JetStream API. One change, listed in STREAM_REWRITES:
 * `replicas` is capped at the number of servers that run (one per
 * StatefulSet here), since a one-server JetStream cannot place three.
 *
 * What it does not do: no reconciling, updates, deletes, status, consumers,
 * KeyValue/ObjectStore, accounts, or spec fields the chart does not render
 * (an unknown field fails, so nothing is silently dropped).
 */
import * as fs from 'fs';
import * as path from 'path';
import { connect, DiscardPolicy, nanos, RetentionPolicy, StorageType, StreamConfig } from 'nats';
import { ClusterObjects, materializePod } from './fleet';
import { goNkeyAuthenticator } from './standins';

/** The changes to the rendered Streams, and why. */
export const STREAM_REWRITES = ['Stream spec.replicas: capped at the servers running (1: one server per StatefulSet)'] as const;

/** A Go duration (`3h`, `90m`, `1h30m`, `500ms`) in nanoseconds. */
function durationNanos(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
  let consumed = '';
  for (const m of text.matchAll(re)) {
    ms += Number(m[1]) * units[m[2]];
    consumed += m[0];
  }
  if (consumed !== text) throw new Error(`Stream maxAge ${JSON.stringify(text)} is not a Go duration`);
  return nanos(ms);
}

function streamConfig(spec: any, maxReplicas: number): Partial<StreamConfig> {
  const known = new Set(['name', 'subjects', 'storage', 'replicas', 'retention', 'maxBytes', 'maxAge', 'discard', 'maxMsgsPerSubject', 'maxMsgs', 'description', 'sources']);
  const unknown = Object.keys(spec).filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`Stream ${spec.name}: spec fields ${unknown.join(', ')} are not mapped by the NACK stand-in`);
  const cfg: Partial<StreamConfig> = {
    name: spec.name,
    subjects: spec.subjects,
    storage: spec.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: Math.min(spec.replicas ?? 1, maxReplicas),
    retention: ({ limits: RetentionPolicy.Limits, interest: RetentionPolicy.Interest, workqueue: RetentionPolicy.Workqueue } as Record<string, RetentionPolicy>)[spec.retention ?? 'limits'],
    discard: spec.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
  };
  if (spec.maxBytes !== undefined) cfg.max_bytes = spec.maxBytes;
  if (spec.maxMsgs !== undefined) cfg.max_msgs = spec.maxMsgs;
  if (spec.maxMsgsPerSubject !== undefined) cfg.max_msgs_per_subject = spec.maxMsgsPerSubject;
  if (spec.maxAge !== undefined) cfg.max_age = durationNanos(String(spec.maxAge));
  if (spec.description !== undefined) cfg.description = spec.description;
  if (spec.sources !== undefined) {
    cfg.sources = (spec.sources as any[]).map((src) => {
      const extra = Object.keys(src).filter((k) => !['name', 'externalApiPrefix', 'externalDeliverPrefix', 'subjectTransforms'].includes(k));
      if (extra.length) throw new Error(`Stream ${spec.name}: source fields ${extra.join(', ')} are not mapped by the NACK stand-in`);
      return {
        name: src.name,
        ...(src.externalApiPrefix ? { external: { api: src.externalApiPrefix, deliver: src.externalDeliverPrefix ?? '' } } : {}),
        ...(src.subjectTransforms?.length ? { subject_transforms: src.subjectTransforms.map((t: any) => ({ src: t.source, dest: t.dest })) } : {}),
      };
    });
  }
  return cfg;
}

/**
 * Creates every rendered Stream of one cluster, as its NACK would. `loopback`
 * maps the controller's `-s=nats://<Service>:<port>` to a running server.
 * Returns the stream names created.
 */
export async function createRenderedStreams(
  objects: ClusterObjects, root: string, loopback: (url: string) => string, maxReplicas = 1,
): Promise<string[]> {
  const streams = objects.all().filter((o) => o.kind === 'Stream' && o.apiVersion?.startsWith('jetstream.nats.io/'));
  if (streams.length === 0) return [];
  const deployment = objects.all().find((o) => o.kind === 'Deployment' && o.spec.template.spec.containers.some((c: any) => (c.args ?? []).some((a: string) => a.startsWith('--nkey='))));
  if (!deployment) throw new Error(`${objects.cluster}: the chart rendered Streams but no NACK Deployment`);
  const container = deployment.spec.template.spec.containers.find((c: any) => (c.args ?? []).some((a: string) => a.startsWith('--nkey=')));
  const pod = materializePod(objects, 'Deployment', deployment.metadata.name, container.name, root);
  const arg = (flag: string) => (pod.container.args as string[]).find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  const server = arg('-s');
  const nkeyFile = arg('--nkey');
  if (!server || !nkeyFile) throw new Error(`${objects.cluster}: NACK args have no -s= or --nkey= (${pod.container.args.join(' ')})`);
  const seed = fs.readFileSync(path.join(pod.root, nkeyFile), 'utf8').trim();
  const nc = await connect({ servers: loopback(server), authenticator: goNkeyAuthenticator(new TextEncoder().encode(seed)), name: 'nack-standin', timeout: 10_000, maxReconnectAttempts: 0 });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 10_000 });
    const created: string[] = [];
    for (const s of streams) {
      await jsm.streams.add(streamConfig(s.spec, maxReplicas));
      created.push(s.spec.name);
    }
    return created;
  } finally {
    await nc.close();
  }
}
