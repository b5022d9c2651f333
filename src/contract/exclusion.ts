// The exclusion label: a target (process, container, pod, workload, node) labelled
// chaoscast.io/exclude=true is never a candidate. The engine applies it to every selection, and an
// adapter whose action reaches beyond its targets (a drain evicting a node's pods) applies it too.

export const EXCLUDE_LABEL = "chaoscast.io/exclude";

export function isExcluded(target: { labels?: Record<string, string> | undefined }): boolean {
  return target.labels?.[EXCLUDE_LABEL]?.trim().toLowerCase() === "true";
}
