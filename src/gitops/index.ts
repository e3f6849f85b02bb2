export { GitOps } from './gitops';
export type { GitOpsOptions, GitOpsChartOptions, ArgoCdGitOpsOptions, FluxGitOpsOptions } from './gitops';
