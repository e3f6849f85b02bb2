import { Size } from 'cdk8s';
import type * as plus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { problem, quote } from '../errors';

/** Properties of {@link HostPrerequisites}. */
export interface HostPrerequisitesProps {
  /**
   * Namespace of the DaemonSet. It needs to be allowed to run privileged pods
   * (Pod Security Admission level `privileged`).
   * @default - the chart's namespace
   */
  readonly namespace?: string;

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

  /**
   * Name of the DaemonSet.
   * @default "event-bus-host-prerequisites"
   */
  readonly name?: string;
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
    this.name = props.name ?? 'event-bus-host-prerequisites';

    // cdk8s-plus-27 is a peer dependency loaded only when this optional
    // construct is used: it doubles the package's require() time otherwise.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kplus: typeof plus = require('cdk8s-plus-27');
    const ds = new kplus.DaemonSet(this, 'Resource', {
      metadata: { name: this.name, namespace: props.namespace, labels: { 'app.kubernetes.io/name': this.name, 'app.kubernetes.io/part-of': 'dsx-event-bus' } },
      automountServiceAccountToken: false,
      securityContext: { ensureNonRoot: false },
      containers: [{
        name: 'pause',
        image: props.pauseImage ?? 'registry.k8s.io/pause:3.10',
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        securityContext: {
          ensureNonRoot: true, user: 65535, group: 65535, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false,
        },
        resources: {
          cpu: { request: kplus.Cpu.millis(1), limit: kplus.Cpu.millis(10) },
          memory: { request: Size.mebibytes(4), limit: Size.mebibytes(16) },
        },
      }],
      initContainers: [{
        name: 'sysctl',
        image: props.sysctlImage ?? 'busybox:1.36',
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        command: ['sysctl', '-w', `fs.inotify.max_user_instances=${instances}`, `fs.inotify.max_user_watches=${watches}`],
        securityContext: { privileged: true, ensureNonRoot: false, user: 0, group: 0, allowPrivilegeEscalation: true, readOnlyRootFilesystem: true },
        resources: {
          cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(100) },
          memory: { request: Size.mebibytes(8), limit: Size.mebibytes(32) },
        },
      }],
    });
    // Run on every node, control-plane and tainted nodes included.
    ds.scheduling.tolerate(kplus.Node.tainted(kplus.NodeTaintQuery.any()));
  }
}
