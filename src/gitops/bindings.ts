/**
 * The generated Argo CD and Flux bindings, loaded on first use (as
 * gateway/bindings.ts does for the Gateway API), so a plain
 * `require('cdk8s-dsx-event-bus')` of a fleet without GitOps does not load
 * them. Each is generated from a pruned CRD (imports/README.md).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as applicationSets from '../imports/argocd-applicationsets-argoproj.io';
import type * as appProjects from '../imports/argocd-appprojects-argoproj.io';
import type * as gitRepositories from '../imports/flux-gitrepositories-source.toolkit.fluxcd.io';
import type * as helmReleases from '../imports/flux-helmreleases-helm.toolkit.fluxcd.io';
import type * as helmRepositories from '../imports/flux-helmrepositories-source.toolkit.fluxcd.io';
import type * as kustomizations from '../imports/flux-kustomizations-kustomize.toolkit.fluxcd.io';
import type * as ociRepositories from '../imports/flux-ocirepositories-source.toolkit.fluxcd.io';

export function applicationSetsModule(): typeof applicationSets {
  return require('../imports/argocd-applicationsets-argoproj.io');
}

export function appProjectsModule(): typeof appProjects {
  return require('../imports/argocd-appprojects-argoproj.io');
}

export function gitRepositoriesModule(): typeof gitRepositories {
  return require('../imports/flux-gitrepositories-source.toolkit.fluxcd.io');
}

export function helmReleasesModule(): typeof helmReleases {
  return require('../imports/flux-helmreleases-helm.toolkit.fluxcd.io');
}

export function helmRepositoriesModule(): typeof helmRepositories {
  return require('../imports/flux-helmrepositories-source.toolkit.fluxcd.io');
}

export function kustomizationsModule(): typeof kustomizations {
  return require('../imports/flux-kustomizations-kustomize.toolkit.fluxcd.io');
}

export function ociRepositoriesModule(): typeof ociRepositories {
  return require('../imports/flux-ocirepositories-source.toolkit.fluxcd.io');
}
