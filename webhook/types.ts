// The `serving.knative.dev/v1` resources as this project models them (spec §5.1): Service,
// Configuration, Revision and Route, with the Kubernetes types from @kubernetes/client-node for
// object metadata and the pod-spec parts Knative allows. Plain data: what YAML or JSON parses
// into, no classes. Status is kept loose; the webhook never reads it.
import type { V1Container, V1LocalObjectReference, V1ObjectMeta, V1PodSecurityContext, V1Toleration, V1Affinity, V1Volume, V1HostAlias, V1TopologySpreadConstraint } from '@kubernetes/client-node';

export const SERVING_GROUP = 'serving.knative.dev';
export const SERVING_API_VERSION = 'serving.knative.dev/v1';
/** On a Configuration or Route a Service owns, and on the Revisions of a Service. */
export const SERVICE_LABEL = `${SERVING_GROUP}/service`;
/** On a Revision: the Configuration that made it. */
export const CONFIGURATION_LABEL = `${SERVING_GROUP}/configuration`;

/** Object metadata as it appears in YAML (timestamps stay strings). */
export type ObjectMeta = Omit<V1ObjectMeta, 'creationTimestamp' | 'deletionTimestamp'> & {
  creationTimestamp?: string;
  deletionTimestamp?: string;
};

/** A container as written in a manifest: Knative defaults the name, so it is optional here. */
export type Container = Omit<V1Container, 'name'> & { name?: string };

/** The PodSpec subset Knative accepts in a revision template, plus Knative's own fields. */
export interface RevisionSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: V1Volume[];
  serviceAccountName?: string;
  imagePullSecrets?: V1LocalObjectReference[];
  enableServiceLinks?: boolean;
  automountServiceAccountToken?: boolean;
  securityContext?: V1PodSecurityContext;
  nodeSelector?: Record<string, string>;
  tolerations?: V1Toleration[];
  affinity?: V1Affinity;
  hostAliases?: V1HostAlias[];
  topologySpreadConstraints?: V1TopologySpreadConstraint[];
  runtimeClassName?: string;
  priorityClassName?: string;
  schedulerName?: string;
  dnsPolicy?: string;
  /** Knative: 0 = unlimited. */
  containerConcurrency?: number;
  timeoutSeconds?: number;
  responseStartTimeoutSeconds?: number;
  idleTimeoutSeconds?: number;
  /** Anything else the user wrote: validation reports fields Knative does not allow. */
  [field: string]: unknown;
}

export interface RevisionTemplateSpec {
  metadata?: ObjectMeta;
  spec?: RevisionSpec;
}

export interface TrafficTarget {
  tag?: string;
  revisionName?: string;
  configurationName?: string;
  latestRevision?: boolean;
  percent?: number;
  url?: string;
}

export interface ConfigurationSpec {
  template?: RevisionTemplateSpec;
}

export interface RouteSpec {
  traffic?: TrafficTarget[];
}

export type ServiceSpec = ConfigurationSpec & RouteSpec;

interface Resource<K extends string, S> {
  apiVersion: string;
  kind: K;
  metadata?: ObjectMeta;
  spec?: S;
  status?: Record<string, unknown>;
}

export type Service = Resource<'Service', ServiceSpec>;
export type Configuration = Resource<'Configuration', ConfigurationSpec>;
export type Revision = Resource<'Revision', RevisionSpec>;
export type Route = Resource<'Route', RouteSpec>;
export type ServingResource = Service | Configuration | Revision | Route;
export type ServingKind = ServingResource['kind'];
export const SERVING_KINDS: readonly ServingKind[] = ['Service', 'Configuration', 'Revision', 'Route'];
