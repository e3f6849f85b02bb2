import { ApiObject, ApiObjectMetadata, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { problem, quote } from '../errors';
import { resolveMetadata } from '../labels';
import { envoyProxiesModule } from './bindings';
import type { EnvoyProxySpec } from '../imports/eg-envoyproxies-gateway.envoyproxy.io';
import { validateAnnotations, validateNamespace, validateObjectName } from '../k8s/names';

/** An Envoy Gateway `EnvoyProxy` a Gateway can name in `infrastructure.parametersRef`. */
export interface IEnvoyProxy {
  /** `metadata.name` of the EnvoyProxy. */
  readonly envoyProxyName: string;
  /** Its namespace, when known (it must be the Gateway's). */
  readonly envoyProxyNamespace?: string;
}

/** Type of the Service Envoy Gateway creates for the proxy. */
export enum EnvoyServiceType {
  /** An external load balancer (MetalLB or a cloud LB) gives the gateway an address. */
  LOAD_BALANCER = 'LoadBalancer',
  /** A port on every node. */
  NODE_PORT = 'NodePort',
  /** In-cluster only. */
  CLUSTER_IP = 'ClusterIP',
}

/** CPU and memory of the Envoy container, as Kubernetes quantities. */
export interface EnvoyResources {
  /**
   * CPU request, e.g. `100m`.
   * @default - Envoy Gateway's default
   */
  readonly cpuRequest?: string;
  /**
   * CPU limit, e.g. `1000m`.
   * @default - none
   */
  readonly cpuLimit?: string;
  /**
   * Memory request, e.g. `64Mi`.
   * @default - Envoy Gateway's default
   */
  readonly memoryRequest?: string;
  /**
   * Memory limit, e.g. `256Mi`.
   * @default - none
   */
  readonly memoryLimit?: string;
}

/**
 * How the Envoy pods and their Service are deployed: what an
 * {@link EventBusEnvoyProxy} sets, and what a cluster's `gateway.envoy` (and a
 * fleet file's `gateway.envoy`) passes to it unchanged.
 */
export interface EventBusEnvoyProxyOptions {
  /**
   * Envoy replicas.
   * @default - Envoy Gateway's default (1)
   * @minimum 0
   * @asType integer
   */
  readonly replicas?: number;
  /**
   * Envoy container resources.
   * @default - Envoy Gateway's defaults
   */
  readonly resources?: EnvoyResources;
  /**
   * Type of the proxy's Service.
   * @default - Envoy Gateway's default (LoadBalancer)
   */
  readonly serviceType?: EnvoyServiceType;
  /**
   * Annotations of the proxy's Service (e.g. for a cloud load balancer).
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };
  /**
   * MetalLB address pool for the proxy's Service: sets the
   * `metallb.universe.tf/address-pool` annotation (MetalLB 0.13+), as the
   * local evaluation does.
   * @default - none
   */
  readonly metalLbAddressPool?: string;
}

/** Props of {@link EventBusEnvoyProxy}. */
export interface EventBusEnvoyProxyProps extends EventBusEnvoyProxyOptions {
  /**
   * Metadata of the EnvoyProxy: name, namespace (must be the Gateway's),
   * labels, annotations. The standard labels (`app.kubernetes.io/part-of`,
   * `managed-by`, `component: gateway`) are always added.
   * @default - name "event-bus-proxy-config" (the name in upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#gateway-resource)), the chart's namespace
   */
  readonly metadata?: ApiObjectMetadata;
}

const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const METALLB_POOL_ANNOTATION = 'metallb.universe.tf/address-pool';

/**
 * An Envoy Gateway `EnvoyProxy` (gateway.envoyproxy.io/v1alpha1): how the
 * gateway's Envoy pods and Service are deployed. The Gateway references it in
 * `infrastructure.parametersRef`.
 */
export class EventBusEnvoyProxy extends Construct implements IEnvoyProxy {
  /**
   * An EnvoyProxy created elsewhere, by name: a reference; nothing is synthesized for it.
   * @param scope the construct scope
   * @param id construct id
   * @param name the EnvoyProxy's name
   * @param namespace its namespace (it must be the Gateway's), when known
   */
  public static fromEnvoyProxyName(scope: Construct, id: string, name: string, namespace?: string): IEnvoyProxy {
    validateObjectName(name, 'EventBusEnvoyProxy.fromEnvoyProxyName()', 'EnvoyProxy name');
    if (namespace !== undefined) validateNamespace(namespace, 'EventBusEnvoyProxy.fromEnvoyProxyName()');
    return new ImportedEnvoyProxy(scope, id, name, namespace);
  }

  public readonly envoyProxyName: string;
  public readonly envoyProxyNamespace?: string;
  /** The generated EnvoyProxy object. */
  public readonly resource: ApiObject;

  constructor(scope: Construct, id: string, props: EventBusEnvoyProxyProps = {}) {
    super(scope, id);
    const where = this.node.path;
    const metadata = resolveMetadata(props.metadata, 'gateway', 'event-bus-proxy-config', where, 'EnvoyProxy name');
    this.envoyProxyName = metadata.name;
    this.envoyProxyNamespace = metadata.namespace ?? Chart.of(this).namespace;

    if (props.replicas !== undefined && (!Number.isInteger(props.replicas) || props.replicas < 0)) {
      throw problem({ where, field: 'replicas', problem: `${quote(props.replicas)} is not a replica count`, allowed: 'a non-negative integer', fix: 'use e.g. 2' });
    }
    // A JavaScript caller can pass any string; the EnvoyProxy CRD accepts only these.
    if (props.serviceType !== undefined && !(Object.values(EnvoyServiceType) as string[]).includes(props.serviceType)) {
      throw problem({ where, field: 'serviceType', problem: `${quote(props.serviceType)} is not a Service type`, allowed: Object.values(EnvoyServiceType).join(', '), fix: 'use EnvoyServiceType.LOAD_BALANCER, .NODE_PORT or .CLUSTER_IP' });
    }
    const resources = props.resources ?? {};
    for (const [field, value] of Object.entries(resources)) {
      if (value !== undefined && !QUANTITY.test(value)) {
        throw problem({ where, field: `resources.${field}`, problem: `${quote(value)} is not a Kubernetes quantity`, allowed: 'e.g. "100m", "1", "64Mi", "1Gi"', fix: 'write it as a quantity' });
      }
    }
    const annotations: Record<string, string> = { ...(props.serviceAnnotations ?? {}) };
    validateAnnotations(annotations, where, 'Service annotation');
    if (props.metalLbAddressPool !== undefined) {
      validateObjectName(props.metalLbAddressPool, where, 'metalLbAddressPool');
      if (annotations[METALLB_POOL_ANNOTATION] !== undefined && annotations[METALLB_POOL_ANNOTATION] !== props.metalLbAddressPool) {
        throw problem({ where, field: 'metalLbAddressPool', problem: `${quote(props.metalLbAddressPool)} and serviceAnnotations[${quote(METALLB_POOL_ANNOTATION)}] ${quote(annotations[METALLB_POOL_ANNOTATION])} disagree`, fix: 'set the pool in one place' });
      }
      annotations[METALLB_POOL_ANNOTATION] = props.metalLbAddressPool;
    }

    const m = envoyProxiesModule();
    const quantities = (pairs: Array<[string, string | undefined]>, factory: (v: string) => any) => {
      const set = pairs.filter(([, v]) => v !== undefined);
      return set.length ? Object.fromEntries(set.map(([k, v]) => [k, factory(v!)])) : undefined;
    };
    const requests = quantities([['cpu', resources.cpuRequest], ['memory', resources.memoryRequest]], (v) => m.EnvoyProxySpecProviderKubernetesEnvoyDeploymentContainerResourcesRequests.fromString(v));
    const limits = quantities([['cpu', resources.cpuLimit], ['memory', resources.memoryLimit]], (v) => m.EnvoyProxySpecProviderKubernetesEnvoyDeploymentContainerResourcesLimits.fromString(v));
    const deployment = props.replicas !== undefined || requests || limits
      ? { replicas: props.replicas, container: requests || limits ? { resources: { requests, limits } } : undefined }
      : undefined;
    const service = props.serviceType !== undefined || Object.keys(annotations).length
      ? { type: props.serviceType as any, annotations: Object.keys(annotations).length ? annotations : undefined }
      : undefined;
    const spec: EnvoyProxySpec = deployment || service
      ? { provider: { type: m.EnvoyProxySpecProviderType.KUBERNETES, kubernetes: { envoyDeployment: deployment, envoyService: service } } }
      : {};
    this.resource = new m.EnvoyProxy(this, 'Resource', {
      metadata: { name: this.envoyProxyName, namespace: metadata.namespace, labels: metadata.labels, annotations: metadata.annotations },
      spec,
    });
  }
}

/** An EnvoyProxy created elsewhere (`EventBusEnvoyProxy.fromEnvoyProxyName`). */
class ImportedEnvoyProxy extends Construct implements IEnvoyProxy {
  constructor(scope: Construct, id: string, public readonly envoyProxyName: string, public readonly envoyProxyNamespace?: string) {
    super(scope, id);
  }

  /** Its whole state, for the inputs digest of renderOnlyChanged (src/charts/inputs.ts). @internal */
  public _referenceData(): Record<string, string | undefined> {
    return { envoyProxyName: this.envoyProxyName, envoyProxyNamespace: this.envoyProxyNamespace };
  }
}
