// kubectl (preinstalled on these machines) as a second, independent client of the stand-in API
// server: tests that use it skip with a note where it is missing, and fail instead under
// CHAOSCAST_REQUIRE_SERVICES=1.

import { accessSync, constants } from "node:fs";
import path from "node:path";
import { execa } from "execa";

function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "kubectl");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export const kubectlPath = findKubectl();
export const requireServices = process.env.CHAOSCAST_REQUIRE_SERVICES === "1";
/** Skip kubectl tests only when kubectl is missing and services are not required. */
export const skipKubectl = !kubectlPath && !requireServices;
if (skipKubectl) process.stderr.write("\n  skipped: kubectl checks against the Kubernetes stand-in, kubectl is not on PATH.\n\n");

/** Run kubectl with this kubeconfig and its own discovery cache (never ~/.kube/cache). */
export async function kubectl(kubeconfig: string, cacheDir: string, ...args: string[]) {
  if (!kubectlPath) throw new Error("CHAOSCAST_REQUIRE_SERVICES=1 but kubectl is not on PATH");
  return execa(kubectlPath, ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args], { reject: false, timeout: 25_000 });
}
