// The Kubernetes adapter as a user runs it: the built CLI with KUBECONFIG pointing at the stand-in
// API server (fixtures/kubernetes), which plays a cluster with controllers that bring deleted pods
// back. These are the issue's own checks: a percentage of pods deleted and never an excluded one, a
// deployment scaled to zero and restored, a context the policy does not allow refused before any
// request, and a run killed mid-scale undone by `rollback` from its own and from another state dir.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { startStandin, type Standin } from "../../fixtures/kubernetes/standin.js";
import { kubectl, skipKubectl } from "../helpers/kubectl.js";
import { pollUntil, readJournalsSafe, ROOT, runCli, waitForOutput, workdir, writeExperiment } from "../helpers/processes.js";

let cluster: Standin;
let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  cluster = await startStandin({ tls: true, token: "e2e-token" });
  cluster.readyDelayMs = 100;
  dir = workdir();
  const kubeconfig = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(kubeconfig, { context: "standin" });
  env = { KUBECONFIG: kubeconfig };
});
afterEach(async () => {
  await cluster.close();
});

const deletes = () => cluster.requests.filter((r) => r.method === "DELETE" && /\/pods\//.test(r.path));
/** payment's deployment scaled to zero for `duration`. */
const scaleToZero = (duration: string) => `version: 1
title: payment scaled to zero
duration: ${duration}
targets:
  payment: { kubernetes: { namespace: payment, kind: deployment, names: [payment] } }
faults:
  - { name: no payment, target: payment, action: kubernetes.scale, with: { replicas: 0 } }
`;
const spec = (obj: unknown) => (obj as { spec?: { replicas?: number } } | undefined)?.spec;
const replicasOf = (ns: string, name: string) => (cluster.get("deployments", ns, name) as { spec?: { replicas?: number } } | undefined)?.spec?.replicas;

describe("the kubernetes adapter, run from the CLI against a stand-in API server", () => {
  it("deletes about the selected percentage of pods, never an excluded one, and waits for them to come back", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "playback-api", { replicas: 36, labels: { app: "playback-api" } });
    cluster.addDeployment("playback", "playback-api-canary", { replicas: 4, labels: { app: "playback-api", track: "canary" }, podLabels: { "chaoscast.io/exclude": "true" } });
    const file = writeExperiment(
      dir,
      "kill.yaml",
      `version: 1
title: playback-api pods killed at 5%
duration: 1s
targets:
  api:
    kubernetes: { namespace: playback, labelSelector: app=playback-api }
    select: { percent: 5 }
faults:
  - { name: kill pods, target: api, action: kubernetes.delete-pod, with: { gracePeriod: 0s } }
`,
    );
    const result = await runCli(["run", file, "--yes", "--seed", "7"], { cwd: dir, env });
    expect(result.exitCode, result.all).toBe(0);
    // 5% of 36 candidates (the 4 excluded ones are not candidates), rounded up: 2.
    const deleted = deletes().map((r) => r.path.split("/").pop()!);
    expect(deleted).toHaveLength(2);
    for (const name of deleted) expect(name).not.toMatch(/canary/);
    const [journal] = readJournalsSafe(dir);
    expect(JSON.stringify(journal)).toMatch(/recovered: 36 of 36 ready/);
    expect(cluster.list("pods", { namespace: "playback", labelSelector: "app=playback-api" }).length).toBe(40);
  });

  it("scales a deployment to zero and restores its replicas afterwards", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const file = writeExperiment(
      dir,
      "scale.yaml",
      scaleToZero("1s"),
    );
    const child = runCli(["run", file, "--yes"], { cwd: dir, env });
    await waitForOutput(child, "injected no payment");
    expect(replicasOf("payment", "payment")).toBe(0);
    expect(cluster.list("configmaps", { labelSelector: "app.kubernetes.io/managed-by=chaoscast" })).toHaveLength(1);
    if (!skipKubectl) {
      // A client nobody here wrote sees the same: the deployment at zero, and the fault's record.
      const seen = await kubectl(env.KUBECONFIG!, path.join(dir, "kube-cache"), "get", "deployment", "payment", "-n", "payment", "-o", "jsonpath={.spec.replicas}");
      expect(seen.stdout, seen.stderr).toBe("0");
      const recorded = await kubectl(env.KUBECONFIG!, path.join(dir, "kube-cache"), "get", "configmaps", "-A", "-l", "app.kubernetes.io/managed-by=chaoscast", "-o", "name");
      expect(recorded.stdout).toMatch(/^configmap\/chaoscast-fault-[0-9a-f]{20}$/);
    }
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    expect(replicasOf("payment", "payment")).toBe(3);
    expect(cluster.list("configmaps", { labelSelector: "app.kubernetes.io/managed-by=chaoscast" })).toEqual([]);
  });

  it("refuses a context outside the policy's allowContexts with exit 4, before any request reaches the cluster", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    writeFileSync(path.join(dir, ".chaoscast.yaml"), "policy:\n  allowContexts: [staging-*]\n");
    const file = writeExperiment(
      dir,
      "scale.yaml",
      scaleToZero("1s"),
    );
    cluster.clearRequests();
    for (const command of [["run", file, "--yes"], ["plan", file]]) {
      const result = await runCli(command, { cwd: dir, env });
      expect(result.exitCode, result.all).toBe(4);
      expect(result.all).toMatch(/context "standin", which the policy's allowContexts \(staging-\*\) does not allow/);
    }
    expect(cluster.requests).toEqual([]);
    expect(replicasOf("payment", "payment")).toBe(3);
  });

  it.each([
    ["its own state directory", false],
    ["another state directory, through the record in the cluster", true],
  ])("undoes a run killed mid-scale with rollback from %s", async (_how, elsewhere) => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const file = writeExperiment(
      dir,
      "scale.yaml",
      scaleToZero("60s"),
    );
    // No watchdog: the point is what rollback does with what a SIGKILLed run left.
    const child = runCli(["run", file, "--yes", "--watchdog", "off"], { cwd: dir, env });
    await waitForOutput(child, "injected no payment");
    child.kill("SIGKILL");
    await child;
    expect(replicasOf("payment", "payment")).toBe(0);
    const rollbackEnv = elsewhere ? { ...env, CHAOSCAST_DIR: path.join(workdir(), "other-state") } : env;
    const args = elsewhere ? ["rollback", "--context", "standin"] : ["rollback"];
    const result = await runCli(args, { cwd: dir, env: rollbackEnv });
    expect(result.exitCode, result.all).toBe(0);
    expect(replicasOf("payment", "payment")).toBe(3);
    await pollUntil(() => cluster.list("configmaps", { labelSelector: "app.kubernetes.io/managed-by=chaoscast" }).length === 0, 5_000);
    if (elsewhere) expect(result.stdout).toMatch(/scale deployment payment\/payment \(context standin\) back to 3 replica\(s\) \(run .*has ended/);
  });
});

describe("the kubernetes adapter's checks before anything is injected", () => {
  it("refuses a drain whose evictions reach a namespace outside allowNamespaces, with exit 4 and the node untouched", async () => {
    cluster.addNode("node-a");
    cluster.addNamespace("playback");
    cluster.addNamespace("payment");
    cluster.addDeployment("playback", "api", { replicas: 1 });
    cluster.addDeployment("payment", "payment", { replicas: 1 });
    writeFileSync(path.join(dir, ".chaoscast.yaml"), "policy:\n  allowNamespaces: [playback]\n");
    const file = writeExperiment(dir, "drain.yaml", `version: 1\ntitle: drain\nduration: 1s\ntargets:\n  node: { kubernetes: { kind: node, names: [node-a] } }\nfaults:\n  - { name: drain it, target: node, action: kubernetes.drain }\n`);
    const result = await runCli(["run", file, "--yes"], { cwd: dir, env });
    expect(result.exitCode, result.all).toBe(4);
    expect(result.all).toMatch(/fault "drain it" on node node-a \(context standin\) reaches namespace "payment", which the policy's allowNamespaces \(playback\) does not allow/);
    expect((cluster.get("nodes", undefined, "node-a") as { spec?: { unschedulable?: boolean } } | undefined)?.spec?.unschedulable).toBeFalsy();
    expect(cluster.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("skips a run whose fault cannot work (a node someone else cordoned) before any fault of it is injected", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    cluster.addNode("node-a", {}, { unschedulable: true });
    const file = writeExperiment(
      dir,
      "two.yaml",
      `version: 1\ntitle: two faults\nduration: 1s\ntargets:\n  payment: { kubernetes: { namespace: payment, kind: deployment } }\n  node: { kubernetes: { kind: node } }\nfaults:\n  - { name: no payment, target: payment, action: kubernetes.scale, with: { replicas: 0 } }\n  - { name: cordon, target: node, action: kubernetes.cordon, at: 500ms }\n`,
    );
    const result = await runCli(["run", file, "--yes"], { cwd: dir, env });
    expect(result.exitCode, result.all).toBe(5);
    expect(result.all).toMatch(/already cordoned; chaoscast will not take over/);
    expect(cluster.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("drops a dead run's record in the cluster with --forget, reverting nothing", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const child = runCli(["run", writeExperiment(dir, "scale.yaml", scaleToZero("60s")), "--yes", "--watchdog", "off"], { cwd: dir, env });
    await waitForOutput(child, "injected no payment");
    child.kill("SIGKILL");
    await child;
    const [record] = cluster.list("configmaps", { labelSelector: "app.kubernetes.io/managed-by=chaoscast" });
    const runId = record!.metadata.labels!["chaoscast.io/run"]!;
    const other = { ...env, CHAOSCAST_DIR: path.join(workdir(), "other-state") };
    const result = await runCli(["rollback", "--context", "standin", "--run", runId, "--forget"], { cwd: dir, env: other });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/forgot ConfigMap payment\/chaoscast-fault-[0-9a-f]+ .* reverting nothing/);
    expect(cluster.list("configmaps", { labelSelector: "app.kubernetes.io/managed-by=chaoscast" })).toEqual([]);
    expect(replicasOf("payment", "payment")).toBe(0);
    // The local state still knows it: the run's own rollback restores it.
    expect((await runCli(["rollback"], { cwd: dir, env })).exitCode).toBe(0);
    expect(replicasOf("payment", "payment")).toBe(3);
  });
});

describe("the shipped experiments/kubernetes", () => {
  /** Viewers' counters as the demo exports them: every start succeeds. */
  async function viewersMetrics(): Promise<{ url: string; close: () => Promise<void> }> {
    const started = Date.now();
    const server = createServer((_req, res) => {
      const starts = Math.floor((Date.now() - started) / 10) + 1;
      res.setHeader("content-type", "text/plain; version=0.0.4");
      res.end(`# TYPE playback_start_attempts_total counter\nplayback_start_attempts_total ${starts}\n# TYPE playback_start_success_total counter\nplayback_start_success_total ${starts}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/metrics`, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  it.each([
    ["01-playback-api-pod-killed.yaml", () => cluster.addDeployment("playback", "playback-api", { replicas: 100, labels: { app: "playback-api" } }), ["playback"]],
    ["02-payment-isolated.yaml", () => cluster.addDeployment("payment", "payment", { replicas: 2 }), ["payment"]],
    ["03-recommendations-scaled-to-zero.yaml", () => cluster.addDeployment("recommendations", "recommendations", { replicas: 3 }), ["recommendations"]],
  ] as const)("%s passes against a cluster that heals, and leaves it as it was", async (file, seed, namespaces) => {
    for (const ns of namespaces) cluster.addNamespace(ns);
    seed();
    const before = JSON.stringify(cluster.list("deployments").map((d) => [d.metadata.name, spec(d)?.replicas]));
    const metrics = await viewersMetrics();
    try {
      const result = await runCli(["run", path.join(ROOT, "experiments", "kubernetes", file), "--yes", "--var", "duration=2s", "--var", `viewers_metrics=${metrics.url}`], { cwd: dir, env });
      expect(result.exitCode, result.all).toBe(0);
    } finally {
      await metrics.close();
    }
    expect(JSON.stringify(cluster.list("deployments").map((d) => [d.metadata.name, spec(d)?.replicas]))).toBe(before);
    expect(cluster.list("networkpolicies")).toEqual([]);
    expect(cluster.list("configmaps", { labelSelector: "app.kubernetes.io/managed-by=chaoscast" })).toEqual([]);
  });
});
