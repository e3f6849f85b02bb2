import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { problem, quote } from '../errors';
import { resolveMetadata } from '../labels';

/** Properties of {@link HostPrerequisites}. */
export interface HostPrerequisitesProps {
  /**
   * Metadata of the DaemonSet. Its namespace needs to be allowed to run
   * privileged pods (Pod Security Admission level `privileged`). Labels are
   * added to the standard ones (`app.kubernetes.io/part-of`, `managed-by`,
   * `component`, `name`, `instance`).
   * @default - name "event-bus-host-prerequisites", the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;

  /**
   * `fs.inotify.max_user_instances` to set on every node.
   * @default 8192
   */
  readonly maxUserInstances?: number;

  /**
   * `fs.inotify.max_user_watches` to set on every node.
   * @default 524288
   */
  readonly maxUserWatches?: number;

  /**
   * Image with a `sysctl` binary, used by the privileged init container.
   * @default "busybox:1.36"
   */
  readonly sysctlImage?: string;

  /**
   * Image of the long-running container that keeps the pod scheduled (it does
   * nothing; the sysctls are set once per node by the init container).
   * @default "registry.k8s.io/pause:3.10"
   */
  readonly pauseImage?: string;
}

/**
 * The "Host Prerequisites" of upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md) as a DaemonSet: on every node,
 * a privileged init container raises the inotify limits
 * (`fs.inotify.max_user_instances=8192`, `fs.inotify.max_user_watches=524288`)
 * that a multi-cluster deployment otherwise exhausts.
 *
 * Privileges: the init container runs as root with `privileged: true`,
 * because `/proc/sys` is read-only in unprivileged containers and these sysctls
 * are node-wide. The long-running container is `pause`, unprivileged, non-root,
 * read-only. The pod tolerates every taint so that control-plane nodes are
 * covered. The limits persist until the node reboots; the DaemonSet sets them
 * again when a pod restarts. Off by default in the charts.
 */
export class HostPrerequisites extends Construct {
  /** Default `fs.inotify.max_user_instances`. */
  public static readonly DEFAULT_MAX_USER_INSTANCES = 8192;
  /** Default `fs.inotify.max_user_watches`. */
  public static readonly DEFAULT_MAX_USER_WATCHES = 524288;

  /** Name of the DaemonSet. */
  public readonly name: string;
  /** The generated DaemonSet. */
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: HostPrerequisitesProps = {}) {
    super(scope, id);
    const instances = props.maxUserInstances ?? HostPrerequisites.DEFAULT_MAX_USER_INSTANCES;
    const watches = props.maxUserWatches ?? HostPrerequisites.DEFAULT_MAX_USER_WATCHES;
    for (const [name, value] of [['maxUserInstances', instances], ['maxUserWatches', watches]] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
        throw problem({
          where: this.node.path,
          problem: `${name} ${quote(value)} is not a valid sysctl value`,
          allowed: 'an integer from 1 to 2147483647',
          fix: `use the documented default (${name === 'maxUserInstances' ? 8192 : 524288}) or a larger integer`,
        });
      }
    }
    const metadata = resolveMetadata(props.metadata, 'host-prerequisites', 'event-bus-host-prerequisites', this.node.path, 'name');
    this.name = metadata.name;
    // The selector is immutable once applied: fixed, readable labels (never
    // the construct path), unique per DaemonSet name within the namespace.
    const selector = { 'app.kubernetes.io/name': 'dsx-event-bus-host-prerequisites', 'app.kubernetes.io/instance': this.name };
    const labels = { ...metadata.labels, ...selector };

    // Plain Kubernetes objects: this construct needs no cdk8s-plus.
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: this.name, namespace: metadata.namespace, labels, annotations: metadata.annotations },
      spec: {
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            // Run on every node, control-plane and tainted nodes included.
            tolerations: [{ operator: 'Exists' }],
            initContainers: [{
              name: 'sysctl',
              image: props.sysctlImage ?? 'busybox:1.36',
              imagePullPolicy: 'IfNotPresent',
              command: ['sysctl', '-w', `fs.inotify.max_user_instances=${instances}`, `fs.inotify.max_user_watches=${watches}`],
              securityContext: {
                privileged: true, runAsNonRoot: false, runAsUser: 0, runAsGroup: 0, allowPrivilegeEscalation: true, readOnlyRootFilesystem: true,
              },
              resources: { requests: { cpu: '10m', memory: '8Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
            }],
            containers: [{
              name: 'pause',
              image: props.pauseImage ?? 'registry.k8s.io/pause:3.10',
              imagePullPolicy: 'IfNotPresent',
              securityContext: {
                privileged: false,
                runAsNonRoot: true,
                runAsUser: 65535,
                runAsGroup: 65535,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
              },
              resources: { requests: { cpu: '1m', memory: '4Mi' }, limits: { cpu: '10m', memory: '16Mi' } },
            }],
          },
        },
      },
    });
  }
}
