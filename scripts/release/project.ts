// Where this project publishes: the seed release guide's names.
export const REPO_URL = "https://github.com/llm-d-incubation/workload-variant-autoscaler";
export const IMAGE = "ghcr.io/llm-d-incubation/workload-variant-autoscaler";
export const CHART_OCI = "oci://ghcr.io/llm-d-incubation/charts/workload-variant-autoscaler";
export const CHART_NAME = "workload-variant-autoscaler";
export const DEFAULT_NAMESPACE = "workload-variant-autoscaler-system";

export const FILES = {
  packageJson: "package.json",
  packageLock: "package-lock.json",
  chart: "charts/workload-variant-autoscaler/Chart.yaml",
  values: "charts/workload-variant-autoscaler/values.yaml",
  kustomization: "config/manager/kustomization.yaml",
  changelog: "CHANGELOG.md",
  releaseNotes: "RELEASE_NOTES.md",
} as const;
