// The Kubernetes stand-in (fixtures/kubernetes/) against the two real clients chaoscast's adapter
// meets: @kubernetes/client-node, and kubectl. Each test gets its own stand-in (HTTPS, bearer
// token) so failures injected or rules added in one test stay there. The kubectl tests skip with
// a note when kubectl is not on PATH, unless CHAOSCAST_REQUIRE_SERVICES=1, where they fail.

import { writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { execa } from "execa";
import { kubectlPath, skipKubectl } from "../helpers/kubectl.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startStandin, type Standin } from "../../fixtures/kubernetes/standin.js";
import { tempDir } from "../helpers/temp.js";

const TOKEN = "standin-test-token";
const USER = "system:serviceaccount:chaos:chaoscast";

/** A fresh stand-in per test, with a kubeconfig for it in a temporary directory. */
function useStandin() {
  const state = {} as { standin: Standin; kubeconfig: string; dir: string };
  beforeEach(async () => {
    state.standin = await startStandin({ tls: true, token: TOKEN, user: USER });
    state.dir = tempDir("k8s-standin-");
    state.kubeconfig = path.join(state.dir, "kubeconfig");
    state.standin.writeKubeconfig(state.kubeconfig, { namespace: "playback" });
    state.standin.addNamespace("playback");
  });
  afterEach(async () => {
    expect(state.standin.controllerErrors).toEqual([]);
    await state.standin.close();
  });
  return state;
}

function apiError(err: unknown): { code: number; status: { reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } }; headers: Record<string, string> } {
  const e = err as k8s.ApiException<string>;
  expect(e).toBeInstanceOf(k8s.ApiException);
  return { code: e.code, status: JSON.parse(e.body) as never, headers: e.headers };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the request to fail, and it succeeded");
}

function readyPods(standin: Standin, namespace: string, labelSelector: string) {
  return standin.list("pods", { namespace, labelSelector }).filter((p) => (p.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === "Ready" && c.status === "True"));
}

describe("the Kubernetes stand-in with @kubernetes/client-node", () => {
  const s = useStandin();
  const kc = () => {
    const config = new k8s.KubeConfig();
    config.loadFromFile(s.kubeconfig);
    return config;
  };

  it("loads the written kubeconfig and answers over TLS with the bearer token, and 401 without it", async () => {
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const names = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(["default", "kube-system", "playback"]));

    const wrong = kc();
    wrong.users = wrong.users.map((u) => ({ ...u, token: "not-the-token" }));
    const err = await rejection(wrong.makeApiClient(k8s.CoreV1Api).listNamespace());
    expect((err as k8s.ApiException<unknown>).code).toBe(401);
  });

  it("lists pods by label selector across pages with limit and continue", async () => {
    s.standin.addDeployment("playback", "bulk", { replicas: 250, labels: { app: "bulk" } });
    s.standin.addDeployment("playback", "other", { replicas: 30, labels: { app: "other" } });
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const seen: string[] = [];
    let pages = 0;
    let token: string | undefined;
    do {
      const page = await core.listNamespacedPod({ namespace: "playback", labelSelector: "app=bulk", limit: 100, ...(token ? { _continue: token } : {}) });
      pages++;
      seen.push(...page.items.map((p) => p.metadata!.name!));
      expect(page.metadata?.remainingItemCount).toBeUndefined();
      token = page.metadata?._continue;
    } while (token);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(250);
    expect(seen.every((n) => n.startsWith("bulk-"))).toBe(true);

    const first = await core.listNamespacedPod({ namespace: "playback", limit: 100 });
    expect(first.items).toHaveLength(100);
    expect(first.metadata?.remainingItemCount).toBe(180);
    expect(first.metadata?.resourceVersion).toMatch(/^\d+$/);
    const notBulk = await core.listNamespacedPod({ namespace: "playback", labelSelector: "app notin (bulk),app" });
    expect(notBulk.items).toHaveLength(30);
  });

  it("scales a deployment through its scale subresource and the pods converge, also with the client's default JSON patch", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 2, labels: { app: "edge" } });
    const apps = kc().makeApiClient(k8s.AppsV1Api);
    const scale = await apps.readNamespacedDeploymentScale({ name: "edge", namespace: "playback" });
    expect(scale.spec?.replicas).toBe(2);
    expect(scale.status?.selector).toBe("app=edge");

    await apps.replaceNamespacedDeploymentScale({ name: "edge", namespace: "playback", body: { ...scale, spec: { replicas: 4 } } });
    await vi.waitFor(async () => {
      const d = await apps.readNamespacedDeployment({ name: "edge", namespace: "playback" });
      expect(d.status?.readyReplicas).toBe(4);
      expect(readyPods(s.standin, "playback", "app=edge")).toHaveLength(4);
    }, { timeout: 5_000, interval: 50 });

    await apps.patchNamespacedDeploymentScale({ name: "edge", namespace: "playback", body: [{ op: "replace", path: "/spec/replicas", value: 1 }] });
    await vi.waitFor(() => expect(s.standin.list("pods", { namespace: "playback", labelSelector: "app=edge" })).toHaveLength(1), { timeout: 5_000, interval: 50 });
    const d = await apps.readNamespacedDeployment({ name: "edge", namespace: "playback" });
    expect(d.metadata?.generation).toBe(3);
    expect(d.status?.observedGeneration).toBe(3);
  });

  it("recreates a deleted pod under a new name, which becomes Ready again", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 3, labels: { app: "edge" } });
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const before = (await core.listNamespacedPod({ namespace: "playback", labelSelector: "app=edge" })).items.map((p) => p.metadata!.name!);
    const victim = before[0]!;
    const deleted = await core.deleteNamespacedPod({ name: victim, namespace: "playback" });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();

    await vi.waitFor(async () => {
      const pods = (await core.listNamespacedPod({ namespace: "playback", labelSelector: "app=edge" })).items;
      expect(pods.map((p) => p.metadata!.name)).not.toContain(victim);
      expect(pods).toHaveLength(3);
      expect(pods.every((p) => p.status?.phase === "Running" && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"))).toBe(true);
    }, { timeout: 5_000, interval: 50 });
    expect(apiError(await rejection(core.readNamespacedPod({ name: victim, namespace: "playback" }))).status.message).toBe(`pods "${victim}" not found`);
  });

  it("refuses a replace carrying a stale resourceVersion with 409 Conflict", async () => {
    s.standin.addConfigMap("playback", "settings", { bitrate: "3000" });
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const original = await core.readNamespacedConfigMap({ name: "settings", namespace: "playback" });
    await core.replaceNamespacedConfigMap({ name: "settings", namespace: "playback", body: { ...original, data: { bitrate: "4500" } } });
    const err = apiError(await rejection(core.replaceNamespacedConfigMap({ name: "settings", namespace: "playback", body: { ...original, data: { bitrate: "6000" } } })));
    expect(err.code).toBe(409);
    expect(err.status.reason).toBe("Conflict");
    expect(err.status.message).toBe('Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again');
    expect(s.standin.get("configmaps", "playback", "settings")?.data).toEqual({ bitrate: "4500" });
  });

  it("surfaces an injected 429 as an error with code 429 and Retry-After, then answers again", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 1 });
    s.standin.failNext(1, 429, { retryAfterSeconds: 3, match: (method, p) => method === "GET" && p.endsWith("/pods") });
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const err = apiError(await rejection(core.listNamespacedPod({ namespace: "playback" })));
    expect(err.code).toBe(429);
    expect(err.headers["retry-after"]).toBe("3");
    expect(err.status).toMatchObject({ reason: "TooManyRequests", details: { retryAfterSeconds: 3 } });
    expect((await core.listNamespacedPod({ namespace: "playback" })).items).toHaveLength(1);
  });

  it("answers a forbidden verb with 403 and RBAC's Status message, leaving the pod alone", async () => {
    s.standin.addPod("playback", "origin-0");
    s.standin.forbid({ verb: "delete", resource: "pods", namespace: "playback" });
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const err = apiError(await rejection(core.deleteNamespacedPod({ name: "origin-0", namespace: "playback" })));
    expect(err.code).toBe(403);
    expect(err.status.reason).toBe("Forbidden");
    expect(err.status.message).toBe(`pods "origin-0" is forbidden: User "${USER}" cannot delete resource "pods" in API group "" in the namespace "playback"`);
    expect(s.standin.get("pods", "playback", "origin-0")).toBeDefined();
  });

  it("creates, lists and deletes a NetworkPolicy", async () => {
    const net = kc().makeApiClient(k8s.NetworkingV1Api);
    const body: k8s.V1NetworkPolicy = { metadata: { name: "isolate-edge" }, spec: { podSelector: { matchLabels: { app: "edge" } }, policyTypes: ["Ingress", "Egress"] } };
    const created = await net.createNamespacedNetworkPolicy({ namespace: "playback", body });
    expect(created.metadata?.uid).toBeDefined();
    expect(created.metadata?.generation).toBe(1);
    expect((await net.listNamespacedNetworkPolicy({ namespace: "playback" })).items.map((p) => p.metadata?.name)).toEqual(["isolate-edge"]);
    const exists = apiError(await rejection(net.createNamespacedNetworkPolicy({ namespace: "playback", body })));
    expect(exists.status).toMatchObject({ reason: "AlreadyExists", message: 'networkpolicies.networking.k8s.io "isolate-edge" already exists' });
    await net.deleteNamespacedNetworkPolicy({ name: "isolate-edge", namespace: "playback" });
    expect((await net.listNamespacedNetworkPolicy({ namespace: "playback" })).items).toEqual([]);
  });

  it("refuses an eviction a PodDisruptionBudget forbids with 429, and allows it once the budget has room", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 2, labels: { app: "edge" } });
    s.standin.addPodDisruptionBudget("playback", "edge-pdb", { matchLabels: { app: "edge" }, minAvailable: 2 });
    const kubeconfig = kc();
    const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
    const policy = kubeconfig.makeApiClient(k8s.PolicyV1Api);
    const victim = s.standin.list("pods", { namespace: "playback" })[0]!.metadata.name;
    const evict = () => core.createNamespacedPodEviction({ name: victim, namespace: "playback", body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: victim, namespace: "playback" } } });

    const err = apiError(await rejection(evict()));
    expect(err.code).toBe(429);
    expect(err.status.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(err.status.details?.causes).toEqual([{ reason: "DisruptionBudget", message: "The disruption budget edge-pdb needs 2 healthy pods and has 2 currently" }]);
    expect((await policy.readNamespacedPodDisruptionBudget({ name: "edge-pdb", namespace: "playback" })).status).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 2 });

    await kubeconfig.makeApiClient(k8s.AppsV1Api).patchNamespacedDeploymentScale({ name: "edge", namespace: "playback", body: [{ op: "replace", path: "/spec/replicas", value: 3 }] });
    await vi.waitFor(async () => {
      expect((await policy.readNamespacedPodDisruptionBudget({ name: "edge-pdb", namespace: "playback" })).status?.disruptionsAllowed).toBe(1);
    }, { timeout: 5_000, interval: 50 });
    await evict();
    expect(s.standin.get("pods", "playback", victim)).toBeUndefined();
  });

  it("runs a command through pods/exec over WebSocket and reports its output and exit status", async () => {
    s.standin.addPod("playback", "edge-0");
    s.standin.onExec = (call) => ({ stdout: `ran ${call.command.join(" ")}\n`, exitCode: 3 });
    const stdout = new PassThrough();
    const output: Buffer[] = [];
    stdout.on("data", (chunk: Buffer) => output.push(chunk));
    const status = new Promise<k8s.V1Status>((resolve) => {
      void new k8s.Exec(kc()).exec("playback", "edge-0", "app", ["tc", "qdisc", "show"], stdout, null, null, false, resolve);
    });
    expect(await status).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } });
    expect(Buffer.concat(output).toString()).toBe("ran tc qdisc show\n");
    expect(s.standin.execs).toMatchObject([{ namespace: "playback", pod: "edge-0", container: "app", command: ["tc", "qdisc", "show"] }]);
  });

  it("holds 10,000 pods, pages through a label selection and deletes 1% of them quickly", async () => {
    s.standin.addDeployment("playback", "fleet", { replicas: 10_000, labels: { app: "fleet" }, podLabels: { shard: "a" } });
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const started = performance.now();
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedPod({ namespace: "playback", labelSelector: "app=fleet,shard in (a)", limit: 500, ...(token ? { _continue: token } : {}) });
      names.push(...page.items.map((p) => p.metadata!.name!));
      token = page.metadata?._continue;
    } while (token);
    expect(names).toHaveLength(10_000);
    const victims = names.filter((_, i) => i % 100 === 0);
    await Promise.all(victims.map((name) => core.deleteNamespacedPod({ name, namespace: "playback", gracePeriodSeconds: 0 })));
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(10_000);
    // The Deployment's status rather than a listing of 10,000 pods per poll.
    await vi.waitFor(() => expect(s.standin.get("deployments", "playback", "fleet")?.status).toMatchObject({ replicas: 10_000, readyReplicas: 10_000 }), { timeout: 10_000, interval: 50 });
    expect(s.standin.list("pods", { namespace: "playback", fieldSelector: "status.phase!=Running" })).toEqual([]);
  }, 60_000);
});

describe("the Kubernetes stand-in with a capped page size, over plain HTTP", () => {
  it("hands out at most pageSizeCap items a page and a continue token that resumes after the last", async () => {
    const standin = await startStandin({ pageSizeCap: 40 });
    try {
      standin.addNamespace("playback");
      standin.addDeployment("playback", "edge", { replicas: 100 });
      const dir = tempDir("k8s-standin-");
      standin.writeKubeconfig(path.join(dir, "kubeconfig"));
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(path.join(dir, "kubeconfig"));
      expect(kc.getCurrentCluster()?.server).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const sizes: number[] = [];
      let token: string | undefined;
      do {
        const page = await core.listNamespacedPod({ namespace: "playback", ...(token ? { _continue: token } : {}) });
        sizes.push(page.items.length);
        token = page.metadata?._continue;
      } while (token);
      expect(sizes).toEqual([40, 40, 20]);
    } finally {
      await standin.close();
    }
  });
});

describe.skipIf(skipKubectl)("the Kubernetes stand-in with kubectl", () => {
  const s = useStandin();
  const kubectl = async (...args: string[]) => {
    if (!kubectlPath) throw new Error("CHAOSCAST_REQUIRE_SERVICES=1 but kubectl is not on PATH");
    // Its own discovery cache per test: kubectl would otherwise write one under ~/.kube/cache.
    const result = await execa(kubectlPath, ["--kubeconfig", s.kubeconfig, "--cache-dir", path.join(s.dir, "cache"), ...args], { reject: false, timeout: 25_000 });
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
  };
  const ok = async (...args: string[]) => {
    const result = await kubectl(...args);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    return result.stdout;
  };
  const podsOn = (node: string) => s.standin.list("pods", { fieldSelector: `spec.nodeName=${node}` });

  it("gets pods by label as the server-side table kubectl prints", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 3, labels: { app: "edge" } });
    s.standin.addPod("playback", "origin-0", { labels: { app: "origin" } });
    const lines = (await ok("get", "pods", "-l", "app=edge")).split("\n");
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1)).toHaveLength(3);
    expect(lines.slice(1).every((l) => /^edge-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0\s+\d+s$/.test(l))).toBe(true);
  });

  it("prints pods as JSON with -o json, which parses", async () => {
    s.standin.addStatefulSet("playback", "cache", { replicas: 2, labels: { app: "cache" } });
    const list = JSON.parse(await ok("get", "pods", "-o", "json")) as { kind: string; items: { kind: string; metadata: { name: string; labels: Record<string, string> }; status: { phase: string } }[] };
    expect(list.kind).toBe("List");
    expect(list.items.map((p) => p.metadata.name)).toEqual(["cache-0", "cache-1"]);
    expect(list.items.every((p) => p.kind === "Pod" && p.status.phase === "Running" && p.metadata.labels.app === "cache")).toBe(true);
  });

  it("deletes a pod, and its ReplicaSet brings a Ready replacement", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 2, labels: { app: "edge" } });
    const victim = s.standin.list("pods", { namespace: "playback" })[0]!.metadata.name;
    expect(await ok("delete", "pod", victim)).toBe(`pod "${victim}" deleted`);
    await vi.waitFor(() => {
      const ready = readyPods(s.standin, "playback", "app=edge").map((p) => p.metadata.name);
      expect(ready).toHaveLength(2);
      expect(ready).not.toContain(victim);
    }, { timeout: 5_000, interval: 50 });
  });

  it("scales a deployment, and reports the new replicas once Ready", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 1, labels: { app: "edge" } });
    expect(await ok("scale", "deployment", "edge", "--replicas=4")).toBe("deployment.apps/edge scaled");
    await vi.waitFor(async () => expect(await ok("get", "deployment", "edge", "-o", "jsonpath={.status.readyReplicas}")).toBe("4"), { timeout: 10_000, interval: 100 });
    expect(await ok("get", "deployment", "edge")).toMatch(/^edge\s+4\/4\s+4\s+4\s+\d+s$/m);
  });

  it("cordons and uncordons a node", async () => {
    s.standin.addNode("node-a");
    expect(await ok("cordon", "node-a")).toBe("node/node-a cordoned");
    expect(s.standin.get("nodes", undefined, "node-a")?.spec?.unschedulable).toBe(true);
    expect(await ok("get", "nodes")).toMatch(/^node-a\s+Ready,SchedulingDisabled\s/m);
    expect(await ok("get", "nodes", "--field-selector", "spec.unschedulable=true", "-o", "name")).toBe("node/node-a");
    expect(await ok("uncordon", "node-a")).toBe("node/node-a uncordoned");
    expect(s.standin.get("nodes", undefined, "node-a")?.spec?.unschedulable).toBeUndefined();
  });

  it("drains a node by evicting its pods, which come back Ready on the other node", async () => {
    s.standin.addNode("node-a");
    s.standin.addNode("node-b");
    s.standin.addDeployment("playback", "edge", { replicas: 4, labels: { app: "edge" } });
    // Room for both evictions at once: a refused one would cost kubectl's fixed 5 s retry.
    s.standin.addPodDisruptionBudget("playback", "edge-pdb", { matchLabels: { app: "edge" }, maxUnavailable: 2 });
    expect(podsOn("node-a")).toHaveLength(2);
    const result = await kubectl("drain", "node-a", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=30s");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("node/node-a drained");
    expect(s.standin.requests.filter((r) => r.method === "POST" && r.path.endsWith("/eviction") && r.status === 201)).toHaveLength(2);
    expect(podsOn("node-a")).toEqual([]);
    await vi.waitFor(() => expect(readyPods(s.standin, "playback", "app=edge").filter((p) => p.spec?.nodeName === "node-b")).toHaveLength(4), { timeout: 5_000, interval: 50 });
  }, 30_000);

  it("fails a drain that a PodDisruptionBudget blocks once its timeout passes, evicting nothing it covers", async () => {
    s.standin.addNode("node-a");
    s.standin.addDeployment("playback", "edge", { replicas: 2, labels: { app: "edge" } });
    s.standin.addPodDisruptionBudget("playback", "edge-pdb", { matchLabels: { app: "edge" }, minAvailable: 2 });
    const before = podsOn("node-a").map((p) => p.metadata.uid).sort();
    const result = await kubectl("drain", "node-a", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=2s");
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(result.stderr).toContain("global timeout reached: 2s");
    expect(podsOn("node-a").map((p) => p.metadata.uid).sort()).toEqual(before);
    expect(s.standin.get("nodes", undefined, "node-a")?.spec?.unschedulable).toBe(true);
  }, 30_000);

  it("restarts a deployment with rollout restart, replacing every pod", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 3, labels: { app: "edge" } });
    const before = s.standin.list("pods", { namespace: "playback" }).map((p) => p.metadata.name);
    expect(await ok("rollout", "restart", "deployment/edge")).toBe("deployment.apps/edge restarted");
    const template = s.standin.get("deployments", "playback", "edge")?.spec?.template as { metadata: { annotations: Record<string, string> } };
    expect(template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    await vi.waitFor(() => {
      const ready = readyPods(s.standin, "playback", "app=edge").map((p) => p.metadata.name);
      expect(ready).toHaveLength(3);
      expect(ready.filter((n) => before.includes(n))).toEqual([]);
    }, { timeout: 5_000, interval: 50 });
    expect(s.standin.list("replicasets", { namespace: "playback" }).map((rs) => rs.spec?.replicas).sort()).toEqual([0, 3]);
  });

  it("annotates a deployment, and gets configmaps and network policies", async () => {
    s.standin.addDeployment("playback", "edge", { replicas: 1 });
    s.standin.addConfigMap("playback", "settings", { bitrate: "3000" });
    s.standin.create("networkpolicies", "playback", { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "isolate-edge" }, spec: { podSelector: {} } });
    expect(await ok("annotate", "deployment", "edge", "chaoscast.io/experiment=latency")).toBe("deployment.apps/edge annotated");
    expect(s.standin.get("deployments", "playback", "edge")?.metadata.annotations).toEqual({ "chaoscast.io/experiment": "latency" });
    expect(await ok("get", "configmap", "settings", "-o", "jsonpath={.data.bitrate}")).toBe("3000");
    expect(await ok("get", "configmaps")).toMatch(/^settings\s+1\s+\d+s$/m);
    expect(await ok("get", "networkpolicy", "-o", "name")).toBe("networkpolicy.networking.k8s.io/isolate-edge");
  });

  it("applies a manifest, creating it and then configuring it with a strategic merge patch", async () => {
    const manifest = path.join(s.dir, "policy.json");
    // JSON is YAML: kubectl reads it as a manifest.
    const write = (types: string[]) => writeFileSync(manifest, JSON.stringify({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "isolate-edge" }, spec: { podSelector: { matchLabels: { app: "edge" } }, policyTypes: types } }));
    write(["Ingress"]);
    expect(await ok("apply", "-f", manifest)).toBe("networkpolicy.networking.k8s.io/isolate-edge created");
    write(["Ingress", "Egress"]);
    expect(await ok("apply", "-f", manifest)).toBe("networkpolicy.networking.k8s.io/isolate-edge configured");
    expect(s.standin.get("networkpolicies", "playback", "isolate-edge")?.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
    const patch = s.standin.requests.find((r) => r.method === "PATCH");
    expect(patch).toMatchObject({ contentType: "application/strategic-merge-patch+json", query: { fieldValidation: "Strict" } });
  });

  it("execs a command in a pod, passing on its output and exit code", async () => {
    s.standin.addPod("playback", "edge-0");
    s.standin.onExec = (call) => ({ stdout: `${call.command.join(" ")}\n`, exitCode: call.command.includes("fail") ? 7 : 0 });
    expect(await ok("exec", "edge-0", "--", "echo", "hi")).toBe("echo hi");
    const failed = await kubectl("exec", "edge-0", "--", "sh", "-c", "fail");
    expect(failed.exitCode).toBe(7);
    expect(failed.stderr).toContain("command terminated with exit code 7");
  });

  it("reports RBAC's message for a forbidden delete, and Unauthorized for a wrong token", async () => {
    s.standin.addPod("playback", "origin-0");
    s.standin.forbid({ verb: "delete", resource: "pods", namespace: "playback" });
    const forbidden = await kubectl("delete", "pod", "origin-0");
    expect(forbidden.exitCode).toBe(1);
    expect(forbidden.stderr).toBe(`Error from server (Forbidden): pods "origin-0" is forbidden: User "${USER}" cannot delete resource "pods" in API group "" in the namespace "playback"`);
    const unauthorized = await kubectl("--token", "wrong", "get", "pods");
    expect(unauthorized.exitCode).toBe(1);
    expect(unauthorized.stderr).toContain("error: You must be logged in to the server (Unauthorized)");
  });
});
