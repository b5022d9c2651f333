// The Kubernetes adapter's actions, reverts, probe, records and connection, driven through its own
// definitions against the stand-in API server (fixtures/kubernetes): each fault seen in the cluster,
// undone from its recorded data alone, undone again as a no-op; and a busy cluster's 429, 409 and
// 403 answered as a user needs.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { startStandin, type KubeObject, type Standin } from "../../fixtures/kubernetes/standin.js";
import { connect, forgetConnections } from "../../src/adapters/kubernetes/connection.js";
import { kubernetesRecords } from "../../src/adapters/kubernetes/records.js";
import type { Revert, RunContext, Target } from "../../src/contract/adapter.js";
import { recordState } from "../../src/engine/recorded.js";
import { revertPerformer } from "../../src/engine/rollback.js";
import { registry } from "../../src/registry.js";
import { workdir } from "../helpers/processes.js";

let cluster: Standin;
let dir: string;
const notes: string[] = [];
const ctx: RunContext = { signal: new AbortController().signal, runId: "20261206T000000Z-k8s-test-beef", note: (m) => notes.push(m), defer: () => {} };
const perform = revertPerformer(registry.reverts);
const savedKubeconfig = process.env.KUBECONFIG;

beforeEach(async () => {
  cluster = await startStandin({ tls: true, token: "adapter-token" });
  cluster.readyDelayMs = 50;
  dir = workdir();
  const file = path.join(dir, "kubeconfig");
  cluster.writeKubeconfig(file, { context: "standin" });
  process.env.KUBECONFIG = file;
  forgetConnections();
  notes.length = 0;
});
afterEach(async () => {
  await cluster.close();
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
  forgetConnections();
});

const targetDef = () => registry.targetKinds.get("kubernetes")!;

async function resolve(selector: Record<string, unknown>): Promise<Target[]> {
  return targetDef().resolve(targetDef().selector.parse(selector), ctx);
}

async function inject(action: string, params: Record<string, unknown>, target: Target): Promise<Revert | null> {
  const def = registry.actions.get(action)!;
  const injection = await def.prepare(def.params.parse(params), target, ctx);
  await injection.apply(ctx);
  // What `chaoscast rollback` would have: only what the state file kept.
  return injection.revert && (JSON.parse(JSON.stringify(injection.revert)) as Revert);
}

const spec = (obj: KubeObject | undefined) => (obj as { spec?: Record<string, unknown> } | undefined)?.spec;
const records = () => cluster.list("configmaps", { labelSelector: "app.kubernetes.io/managed-by=chaoscast" });

describe("kubernetes targets", () => {
  it("lists pods a page at a time and finds every one", async () => {
    await cluster.close();
    cluster = await startStandin({ tls: true, token: "t", pageSizeCap: 50 });
    cluster.writeKubeconfig(process.env.KUBECONFIG!, { context: "standin" });
    forgetConnections();
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 120 });
    cluster.clearRequests();
    const found = await resolve({ namespace: "playback", labelSelector: "app=api" });
    expect(found).toHaveLength(120);
    const lists = cluster.requests.filter((r) => r.method === "GET" && r.path.endsWith("/namespaces/playback/pods"));
    expect(lists).toHaveLength(3);
    expect(lists.slice(1).every((r) => r.query.continue)).toBe(true);
  });

  it("carries labels, context and namespace for the policy, and selects nodes and workloads by name", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 2, workloadLabels: { "chaoscast.io/exclude": "true" } });
    cluster.addNode("node-a", { zone: "a" });
    const [deployment] = await resolve({ namespace: "payment", kind: "deployment", names: ["payment"] });
    expect(deployment).toMatchObject({ id: "deployment:payment/payment", context: "standin", namespace: "payment", labels: { "chaoscast.io/exclude": "true" } });
    const [node] = await resolve({ kind: "node", labelSelector: "zone=a" });
    expect(node).toMatchObject({ id: "node:node-a", context: "standin" });
    expect(node!.namespace).toBeUndefined();
  });

  it("retries a busy API server's 429 as its Retry-After says, and a 503 with backoff", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 2 });
    cluster.failNext(1, 429, { retryAfterSeconds: 1 });
    cluster.failNext(1, 503);
    expect(await resolve({ namespace: "playback" })).toHaveLength(2);
    expect(notes.some((n) => /HTTP 429; retrying in 1000ms/.test(n))).toBe(true);
    expect(notes.some((n) => /HTTP 503; retrying in \d+ms/.test(n))).toBe(true);
  });

  it("names the verb, resource and namespace of a 403, and the Role rule that would allow it", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 2 });
    cluster.forbid({ verb: "update", resource: "deployments/scale", namespace: "payment" });
    const [target] = await resolve({ namespace: "payment", kind: "deployment" });
    await expect(inject("kubernetes.scale", { replicas: 0 }, target!)).rejects.toThrow(
      /not allowed to update deployments\/scale "payment" in namespace payment \(context standin\): .*forbidden.*Role in namespace payment rule: \{ apiGroups: \["apps"\], resources: \["deployments\/scale"\], verbs: \["update"\] \}/,
    );
  });
});

describe("kubernetes actions", () => {
  it("scale re-reads and retries when the deployment changed in between (409), then restores from the record alone", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const [target] = await resolve({ namespace: "payment", kind: "deployment" });
    cluster.failNext(1, 409, { match: (method, p) => method === "PUT" && p.endsWith("/scale") });
    const revert = await inject("kubernetes.scale", { replicas: 1 }, target!);
    expect(spec(cluster.get("deployments", "payment", "payment"))?.replicas).toBe(1);
    expect(notes.some((n) => /409 Conflict/.test(n))).toBe(true);
    expect(records()).toHaveLength(1);
    await perform(revert!, ctx);
    expect(spec(cluster.get("deployments", "payment", "payment"))?.replicas).toBe(3);
    expect(records()).toEqual([]);
    await perform(revert!, ctx);
    expect(spec(cluster.get("deployments", "payment", "payment"))?.replicas).toBe(3);
  });

  it("network-isolate puts a deny-all NetworkPolicy on one pod alone, and the revert takes it and the pod's label away", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 2 });
    const [pod, other] = await resolve({ namespace: "payment" });
    const revert = await inject("kubernetes.network-isolate", { direction: "ingress" }, pod!);
    const [policy] = cluster.list("networkpolicies", { namespace: "payment" });
    const policySpec = spec(policy) as { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[] };
    expect(policySpec.policyTypes).toEqual(["Ingress"]);
    const selected = cluster.list("pods", { namespace: "payment", labelSelector: Object.entries(policySpec.podSelector.matchLabels).map(([k, v]) => `${k}=${v}`).join(",") });
    expect(selected.map((p) => p.metadata.name)).toEqual([pod!.id.split("/")[1]]);
    expect(selected.map((p) => p.metadata.name)).not.toContain(other!.id.split("/")[1]);
    await perform(revert!, ctx);
    expect(cluster.list("networkpolicies", { namespace: "payment" })).toEqual([]);
    expect(cluster.list("pods", { namespace: "payment", labelSelector: "chaoscast.io/isolate" })).toEqual([]);
    expect(records()).toEqual([]);
    await perform(revert!, ctx);
  });

  it("network-isolate of a deployment selects its pods with the deployment's own selector", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 2, labels: { app: "payment", tier: "api" } });
    const [deployment] = await resolve({ namespace: "payment", kind: "deployment" });
    const revert = await inject("kubernetes.network-isolate", {}, deployment!);
    const [policy] = cluster.list("networkpolicies", { namespace: "payment" });
    expect(spec(policy)).toMatchObject({ podSelector: { matchLabels: { app: "payment", tier: "api" } }, policyTypes: ["Ingress", "Egress"] });
    await perform(revert!, ctx);
    expect(cluster.list("networkpolicies", { namespace: "payment" })).toEqual([]);
  });

  it("cordon marks a node unschedulable and its revert uncordons it; a node someone else cordoned is refused", async () => {
    cluster.addNode("node-a");
    cluster.addNode("node-b", {}, { unschedulable: true });
    const [a] = await resolve({ kind: "node", names: ["node-a"] });
    const revert = await inject("kubernetes.cordon", {}, a!);
    expect(spec(cluster.get("nodes", undefined, "node-a"))?.unschedulable).toBe(true);
    expect(records().map((r) => r.metadata.namespace)).toEqual(["default"]);
    await perform(revert!, ctx);
    expect(spec(cluster.get("nodes", undefined, "node-a"))?.unschedulable).toBeFalsy();
    const [b] = await resolve({ kind: "node", names: ["node-b"] });
    await expect(inject("kubernetes.cordon", {}, b!)).rejects.toThrow(/already cordoned; chaoscast will not take over/);
  });

  it("drain evicts a node's pods through the eviction API, leaving DaemonSet pods, and its revert uncordons", async () => {
    cluster.addNode("node-a");
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 3 });
    const [node] = await resolve({ kind: "node", names: ["node-a"] });
    const revert = await inject("kubernetes.drain", { timeout: "10s" }, node!);
    const evictions = cluster.requests.filter((r) => r.method === "POST" && r.path.endsWith("/eviction"));
    expect(evictions).toHaveLength(3);
    expect(cluster.list("pods", { fieldSelector: "spec.nodeName=node-a" }).filter((p) => !p.metadata.deletionTimestamp)).toEqual([]);
    await perform(revert!, ctx);
    expect(spec(cluster.get("nodes", undefined, "node-a"))?.unschedulable).toBeFalsy();
  });

  it("drain fails when a PodDisruptionBudget forbids the evictions for its whole timeout, and is rolled back", async () => {
    cluster.addNode("node-a");
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 2 });
    cluster.addPodDisruptionBudget("playback", "api", { matchLabels: { app: "api" }, minAvailable: 2 });
    const [node] = await resolve({ kind: "node", names: ["node-a"] });
    const def = registry.actions.get("kubernetes.drain")!;
    const injection = await def.prepare(def.params.parse({ timeout: "2s" }), node!, ctx);
    await expect(injection.apply(ctx)).rejects.toThrow(/could not be evicted within 2s \(a PodDisruptionBudget forbids it\)/);
    await perform(JSON.parse(JSON.stringify(injection.revert)) as Revert, ctx);
    expect(spec(cluster.get("nodes", undefined, "node-a"))?.unschedulable).toBeFalsy();
    expect(cluster.list("pods", { namespace: "playback" })).toHaveLength(2);
  });

  it("exec-kill runs kill in the container as an argument array and waits for the container to restart", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 1, containers: [{ name: "api", image: "api:1" }] });
    cluster.onExec = (call) => {
      // What the kubelet does when PID 1 dies: the container restarts.
      cluster.updateStatus("pods", call.namespace, call.pod, (status) => {
        const [container] = status.containerStatuses as { restartCount: number }[];
        container!.restartCount += 1;
      });
      return { exitCode: 0 };
    };
    const [pod] = await resolve({ namespace: "playback" });
    expect(await inject("kubernetes.exec-kill", { signal: "TERM" }, pod!)).toBeNull();
    expect(cluster.execs.map((e) => e.command)).toEqual([["kill", "-s", "TERM", "1"]]);
  });

  it("exec-kill says so when the container has no kill program", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 1 });
    cluster.onExec = () => ({ exitCode: 127, stderr: 'exec: "kill": executable file not found in $PATH' });
    const [pod] = await resolve({ namespace: "playback" });
    await expect(inject("kubernetes.exec-kill", {}, pod!)).rejects.toThrow(/failed in playback\/.*the image needs a kill program/);
  });

  it("rollout-restart stamps the pod template as kubectl does", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 2 });
    const [deployment] = await resolve({ namespace: "playback", kind: "deployment" });
    expect(await inject("kubernetes.rollout-restart", {}, deployment!)).toBeNull();
    const template = spec(cluster.get("deployments", "playback", "api"))?.template as { metadata: { annotations: Record<string, string> } };
    expect(template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]).toMatch(/^\d{4}-/);
  });

  it("delete-pod refuses a pod no controller owns unless allowBare", async () => {
    cluster.addNamespace("playback");
    cluster.addPod("playback", "lonely");
    const [pod] = await resolve({ namespace: "playback" });
    await expect(inject("kubernetes.delete-pod", {}, pod!)).rejects.toThrow(/has no controller.*set allowBare: true/);
    expect(cluster.get("pods", "playback", "lonely")).toBeDefined();
    expect(await inject("kubernetes.delete-pod", { allowBare: true, gracePeriod: "0s" }, pod!)).toBeNull();
    expect(cluster.get("pods", "playback", "lonely")).toBeUndefined();
  });
});

describe("the kubernetes probe", () => {
  const probe = () => registry.probes.get("kubernetes")!;
  const observe = (params: Record<string, unknown>) => probe().run(probe().params.parse(params), { signal: new AbortController().signal, timeoutMs: 5_000 });

  it("reports a workload's ready ratio, restarts and CrashLoopBackOff", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 2 });
    const [first] = cluster.list("pods", { namespace: "playback" });
    cluster.updateStatus("pods", "playback", first!.metadata.name, (status) => {
      const [container] = status.containerStatuses as { restartCount: number; state: unknown }[];
      container!.restartCount = 4;
      container!.state = { waiting: { reason: "CrashLoopBackOff" } };
    });
    const seen = await observe({ namespace: "playback", workload: "deployment/api" });
    expect(seen.error).toBeUndefined();
    expect(seen.fields).toMatchObject({ desired: 2, pods: 2, restarts: 4, crashLoopBackOff: 1 });
    expect(seen.fields.readyRatio).toBeLessThanOrEqual(1);
  });

  it("reports no capacity for a workload scaled to zero, and an error for one that does not exist", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 0 });
    expect((await observe({ namespace: "playback", workload: "deployment/api" })).fields).toMatchObject({ desired: 0, readyRatio: 0 });
    expect((await observe({ namespace: "playback", workload: "deployment/nope" })).error).toMatch(/deployment\/nope not found in namespace playback/);
  });
});

describe("records in the cluster", () => {
  it("are found, and judged by their run's process on this host and by their lease from another", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const [target] = await resolve({ namespace: "payment", kind: "deployment" });
    const def = registry.actions.get("kubernetes.scale")!;
    const injection = await def.prepare(def.params.parse({ replicas: 0 }), target!, ctx);
    await injection.apply(ctx);
    await injection.revert!.release?.();
    const { records: found, unreadable } = await kubernetesRecords.find("standin", ctx);
    expect(unreadable).toEqual([]);
    expect(found).toHaveLength(1);
    const [record] = found;
    expect(record).toMatchObject({ runId: ctx.runId, action: "kubernetes.scale", owner: { pid: process.pid, host: hostname() } });
    expect((await recordState(record!)).state).toBe("held");
    const elsewhere = { ...record!, owner: { ...record!.owner, host: "another-laptop" } };
    expect((await recordState(elsewhere)).state).toBe("held");
    expect(await recordState(elsewhere, Date.parse(record!.renewedAt) + record!.leaseMs + 1)).toMatchObject({ state: "abandoned", why: expect.stringMatching(/longer than its 30s lease/) });
    await perform(record!.revert as Revert, ctx);
    expect(spec(cluster.get("deployments", "payment", "payment"))?.replicas).toBe(3);
    expect(records()).toEqual([]);
  });

  it("that are not chaoscast's own are reported, never acted on", async () => {
    cluster.addNamespace("payment");
    cluster.create("configmaps", "payment", { metadata: { name: "chaoscast-fault-0123456789abcdef0123", labels: { "app.kubernetes.io/managed-by": "chaoscast" } }, data: { "record.json": '{"version":1,"revert":{"kind":"kubernetes.restore-replicas"}}' } });
    const { records: found, unreadable } = await kubernetesRecords.find("standin", ctx);
    expect(found).toEqual([]);
    expect(unreadable).toEqual([expect.objectContaining({ where: expect.stringMatching(/payment\/chaoscast-fault-0123456789abcdef0123/), problem: expect.stringMatching(/not a chaoscast fault record/) })]);
  });
});

describe("connecting like kubectl", () => {
  it("merges the files in KUBECONFIG, keeping the first one's current context, and names the contexts when one is missing", async () => {
    const second = path.join(dir, "second");
    cluster.writeKubeconfig(second, { context: "other", namespace: "payment" });
    process.env.KUBECONFIG = `${process.env.KUBECONFIG}${path.delimiter}${path.join(dir, "missing")}${path.delimiter}${second}`;
    forgetConnections();
    expect((await connect(undefined)).context).toBe("standin");
    expect((await connect("other")).defaultNamespace).toBe("payment");
    await expect(connect("prod")).rejects.toThrow(/no context "prod" in the kubeconfig .*its contexts: standin, other/);
  });

  it("uses the pod's service account when there is no kubeconfig, and says what it looked for when there is nothing", async () => {
    const root = path.join(dir, "pod");
    const mount = path.join(root, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(mount, { recursive: true });
    writeFileSync(path.join(mount, "token"), "adapter-token");
    writeFileSync(path.join(mount, "ca.crt"), cluster.caPem!);
    writeFileSync(path.join(mount, "namespace"), "playback\n");
    const url = new URL(cluster.url);
    const env = { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, HOME: dir };
    const conn = await connect(undefined, { env, serviceAccountRoot: root });
    expect(conn).toMatchObject({ context: "in-cluster", defaultNamespace: "playback", server: cluster.url.replace(/\/$/, "") });
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 1 });
    const list = await conn.kc.makeApiClient(conn.k8s.CoreV1Api).listNamespacedPod({ namespace: "playback" });
    expect(list.items).toHaveLength(1);
    forgetConnections();
    await expect(connect(undefined, { env: { HOME: dir }, serviceAccountRoot: path.join(dir, "none") })).rejects.toThrow(/no Kubernetes configuration found: set KUBECONFIG, create ~\/\.kube\/config, or run chaoscast in a pod/);
  });

  it("refuses to revert through a context that now points at another cluster", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const [target] = await resolve({ namespace: "payment", kind: "deployment" });
    const revert = await inject("kubernetes.scale", { replicas: 0 }, target!);
    await revert && (await registry.reverts.get("kubernetes.restore-replicas")!.data.parseAsync(revert!.data));
    const moved = { ...revert!, data: { ...revert!.data, ref: { ...(revert!.data.ref as object), server: "https://127.0.0.1:1" } } };
    await expect(perform(moved, ctx)).rejects.toThrow(/context "standin" now points at .*not at https:\/\/127\.0\.0\.1:1 where the fault was made/);
    await perform(revert!, ctx);
  });
});

describe("records planted in the cluster", () => {
  const plant = (revert: Record<string, unknown>) =>
    cluster.create("configmaps", "payment", {
      metadata: { name: "chaoscast-fault-00000000000000000001", labels: { "app.kubernetes.io/managed-by": "chaoscast" } },
      data: {
        "record.json": JSON.stringify({ version: 1, runId: "planted-run", fault: "planted", action: "kubernetes.scale", target: null, revert, owner: { pid: 99999, startTime: null, host: "elsewhere" }, leaseMs: 30_000 }),
        renewedAt: "2020-01-01T00:00:00.000Z",
      },
    });

  it("can never name another adapter's revert (a command, a signal to a local process)", async () => {
    cluster.addNamespace("payment");
    plant({ kind: "command.revert", data: { argv: ["touch", "/tmp/owned"], cwd: "/" }, description: "innocent" });
    const { records: found, unreadable } = await kubernetesRecords.find("standin", ctx);
    expect(found).toEqual([]);
    expect(unreadable[0]?.problem).toMatch(/not a chaoscast fault record/);
  });

  it("can never send a revert to another cluster than the one it was found in", async () => {
    cluster.addNamespace("payment");
    const conn = await connect("standin");
    plant({ kind: "kubernetes.restore-replicas", data: { ref: { context: "prod", server: "https://127.0.0.2:6443", kind: "deployment", namespace: "payment", name: "payment", uid: "" }, replicas: 0, record: { namespace: "payment", name: "chaoscast-fault-00000000000000000001" } }, description: "x" });
    const { records: found, unreadable } = await kubernetesRecords.find("standin", ctx);
    expect(found).toEqual([]);
    expect(unreadable[0]?.problem).toContain(`names another cluster (context prod, server https://127.0.0.2:6443), not standin at ${conn.server}`);
  });
});

describe("records whose object does not carry their mark", () => {
  it("are left alone, so a ConfigMap anyone may write cannot make rollback scale what chaoscast never touched", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "playback-api", { replicas: 5 });
    const conn = await connect("standin");
    const name = "chaoscast-fault-00000000000000000002";
    cluster.create("configmaps", "playback", {
      metadata: { name, labels: { "app.kubernetes.io/managed-by": "chaoscast" } },
      data: {
        "record.json": JSON.stringify({
          version: 1,
          runId: "forged-run",
          fault: "harmless",
          action: "kubernetes.scale",
          target: null,
          revert: { kind: "kubernetes.restore-replicas", data: { ref: { context: conn.context, server: conn.server, kind: "deployment", namespace: "playback", name: "playback-api", uid: "" }, replicas: 0, during: 0, record: { namespace: "playback", name } }, description: "delete an old NetworkPolicy (harmless)" },
          owner: { pid: 99999, startTime: null, host: "elsewhere" },
          leaseMs: 30_000,
        }),
        renewedAt: "2020-01-01T00:00:00.000Z",
      },
    });
    const { records: found, unreadable } = await kubernetesRecords.find("standin", ctx);
    expect(found).toEqual([]);
    expect(unreadable[0]?.problem).toMatch(/left alone: its deployment playback\/playback-api does not carry the fault's mark chaoscast\.io\/fault-00000000000000000002/);
  });
});

describe("a hung API server", () => {
  it("is given up on when the run is interrupted, and after the request timeout", async () => {
    const { createServer } = await import("node:net");
    const sockets: import("node:net").Socket[] = [];
    const server = createServer((socket) => void sockets.push(socket)).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const { call } = await import("../../src/adapters/kubernetes/api.js");
    const never = () => new Promise<never>(() => {});
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 100);
    await expect(call({ verb: "list", resource: "pods", group: "" }, never, { signal: interrupt.signal })).rejects.toThrow(/list pods: interrupted/);
    await expect(call({ verb: "list", resource: "pods", group: "" }, never, { requestTimeoutMs: 200 })).rejects.toThrow(/could not list pods: ETIMEDOUT: no answer within 200ms/);
    for (const socket of sockets) socket.destroy();
    server.close();
  });
});

describe("delete-pod's wait for recovery", () => {
  it("counts from the deletion, so a slow owner fails the revert once recoveryTimeout has passed since then", async () => {
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 2 });
    cluster.readyDelayMs = 60_000;
    const [pod] = await resolve({ namespace: "playback" });
    const revert = await inject("kubernetes.delete-pod", { gracePeriod: "0s", recoveryTimeout: "1s" }, pod!);
    await expect(perform(revert!, ctx)).rejects.toThrow(/ReplicaSet playback\/.* did not recover within 1s of the pod's deletion \(1 of 2 ready\)/);
  });
});

describe("drain and the exclusion label", () => {
  it("refuses to drain a node that runs a pod labelled chaoscast.io/exclude=true", async () => {
    cluster.addNode("node-a");
    cluster.addNamespace("billing");
    cluster.addDeployment("billing", "ledger", { replicas: 1, podLabels: { "chaoscast.io/exclude": "true" } });
    const [node] = await resolve({ kind: "node", names: ["node-a"] });
    const def = registry.actions.get("kubernetes.drain")!;
    await expect(def.preflight!(def.params.parse({}), node!, ctx)).rejects.toThrow(/runs 1 pod\(s\) labelled chaoscast\.io\/exclude=true that a drain would evict \(billing\/ledger-/);
  });
});

describe("the mark a fault leaves on its object", () => {
  it("makes a revert whose object was never marked (the run died before it scaled) change nothing", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const [target] = await resolve({ namespace: "payment", kind: "deployment" });
    const def = registry.actions.get("kubernetes.scale")!;
    // Prepared and recorded in the state file, never applied: then someone scales it by hand.
    const injection = await def.prepare(def.params.parse({ replicas: 0 }), target!, ctx);
    cluster.updateStatus("deployments", "payment", "payment", () => {});
    await perform(JSON.parse(JSON.stringify(injection.revert)) as Revert, ctx);
    expect(notes.some((n) => /carries no mark of this fault/.test(n))).toBe(true);
    expect(spec(cluster.get("deployments", "payment", "payment"))?.replicas).toBe(3);
  });

  it("must agree with a record's replica count, so an edited record is left alone", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 3 });
    const [target] = await resolve({ namespace: "payment", kind: "deployment" });
    const def = registry.actions.get("kubernetes.scale")!;
    const injection = await def.prepare(def.params.parse({ replicas: 0 }), target!, ctx);
    await injection.apply(ctx);
    await injection.revert!.release?.();
    const [configMap] = records();
    const data = (configMap as unknown as { data: Record<string, string> }).data;
    const body = JSON.parse(data["record.json"]!) as { revert: { data: { replicas: number } } };
    body.revert.data.replicas = 1000;
    cluster.remove("configmaps", "payment", configMap!.metadata.name);
    cluster.create("configmaps", "payment", { metadata: { name: configMap!.metadata.name, labels: configMap!.metadata.labels }, data: { ...data, "record.json": JSON.stringify(body) } });
    const { records: found, unreadable } = await kubernetesRecords.find("standin", ctx);
    expect(found).toEqual([]);
    expect(unreadable[0]?.problem).toMatch(/does not carry the fault's mark .* as the record has it/);
    await perform(JSON.parse(JSON.stringify(injection.revert)) as Revert, ctx);
    expect(spec(cluster.get("deployments", "payment", "payment"))?.replicas).toBe(3);
  });
});

describe("network-isolate and the policies already there", () => {
  it("refuses pods another NetworkPolicy opens, since a deny-all one would cut nothing it allows", async () => {
    cluster.addNamespace("payment");
    cluster.addDeployment("payment", "payment", { replicas: 1, labels: { app: "payment" } });
    cluster.create("networkpolicies", "payment", {
      metadata: { name: "allow-frontend" },
      spec: { podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["payment"] }] }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "frontend" } } }] }] },
    });
    const [deployment] = await resolve({ namespace: "payment", kind: "deployment" });
    await expect(inject("kubernetes.network-isolate", { direction: "ingress" }, deployment!)).rejects.toThrow(/NetworkPolicy payment\/allow-frontend already allows ingress traffic for these pods/);
    // Egress is not opened by it: isolating that works.
    const revert = await inject("kubernetes.network-isolate", { direction: "egress" }, deployment!);
    await perform(revert!, ctx);
  });
});

describe("drain and the namespaces the policy judged", () => {
  it("evicts nothing when pods of a namespace the policy did not see arrived on the node since", async () => {
    cluster.addNode("node-a");
    cluster.addNamespace("playback");
    cluster.addDeployment("playback", "api", { replicas: 1 });
    const [node] = await resolve({ kind: "node", names: ["node-a"] });
    const def = registry.actions.get("kubernetes.drain")!;
    const params = def.params.parse({ timeout: "5s" });
    expect((await def.reach!(params, node!, ctx)).namespaces).toEqual(["playback"]);
    cluster.addNamespace("billing");
    cluster.addDeployment("billing", "ledger", { replicas: 1 });
    const injection = await def.prepare(params, node!, ctx);
    await expect(injection.apply(ctx)).rejects.toThrow(/pods of namespace\(s\) billing arrived on it after the drain was judged against the policy; nothing was evicted/);
    expect(cluster.requests.filter((r) => r.path.endsWith("/eviction"))).toEqual([]);
    await perform(JSON.parse(JSON.stringify(injection.revert)) as Revert, ctx);
    expect(spec(cluster.get("nodes", undefined, "node-a"))?.unschedulable).toBeFalsy();
  });
});
