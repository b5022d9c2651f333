// The adapter contract for Kubernetes, against the stand-in API server (fixtures/kubernetes), which
// plays a cluster whose controllers bring deleted pods back: each reversible action is injected,
// seen through the API, reverted from its recorded data alone, and reverted again as a no-op; a
// failing injection leaves the object as it was.

import path from "node:path";
import { afterAll } from "vitest";
import { startStandin, type Standin } from "../../fixtures/kubernetes/standin.js";
import { forgetConnections } from "../../src/adapters/kubernetes/connection.js";
import type { RunContext, Target } from "../../src/contract/adapter.js";
import { registry } from "../../src/registry.js";
import { tempDir } from "../helpers/temp.js";
import { adapterContract, failingCase, runAdapterContract, type Arranged } from "./adapter-contract.js";

const ctx: RunContext = { signal: new AbortController().signal, runId: "kubernetes-contract", note: () => {}, defer: () => {} };
let cluster: Standin | undefined;
const savedKubeconfig = process.env.KUBECONFIG;

/**
 * A fresh stand-in for each case, so no case sees another's objects and pods land on the one node
 * a node case adds. The kubeconfig is rewritten for it and the adapter's cached connection dropped.
 */
async function freshCluster(): Promise<Standin> {
  await cluster?.close();
  cluster = await startStandin({ tls: true, token: "contract-token" });
  // Slow enough that a replacement pod is seen not ready yet, fast enough for the tests.
  cluster.readyDelayMs = 400;
  const kubeconfig = path.join(tempDir("chaoscast-k8s-contract-"), "kubeconfig");
  cluster.writeKubeconfig(kubeconfig, { context: "contract" });
  process.env.KUBECONFIG = kubeconfig;
  forgetConnections();
  return cluster;
}

afterAll(async () => {
  await cluster?.close();
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
  forgetConnections();
});

async function resolveOne(selector: Record<string, unknown>): Promise<Target> {
  const def = registry.targetKinds.get("kubernetes")!;
  const [target] = await def.resolve(def.selector.parse(selector), ctx);
  if (!target) throw new Error(`nothing matched ${JSON.stringify(selector)}`);
  return target;
}

const spec = (obj: unknown) => (obj as { spec?: Record<string, unknown> } | undefined)?.spec;
const status = (obj: unknown) => (obj as { status?: Record<string, unknown> } | undefined)?.status;

/** A namespace with a deployment in it. */
async function aDeployment(replicas = 3): Promise<{ c: Standin; ns: string }> {
  const c = await freshCluster();
  const ns = "playback";
  c.addNamespace(ns);
  c.addDeployment(ns, "api", { replicas });
  return { c, ns };
}

interface Replicas {
  replicas: number;
}
async function scaled(): Promise<Arranged<Replicas>> {
  const { c, ns } = await aDeployment();
  return { target: await resolveOne({ namespace: ns, kind: "deployment", names: ["api"] }), observe: async () => ({ replicas: spec(c.get("deployments", ns, "api"))?.replicas as number }) };
}

interface Isolation {
  policies: number;
  labelled: number;
}
async function isolated(kind: "pod" | "deployment"): Promise<Arranged<Isolation>> {
  const { c, ns } = await aDeployment(2);
  const target = await resolveOne(kind === "pod" ? { namespace: ns } : { namespace: ns, kind: "deployment" });
  return { target, observe: async () => ({ policies: c.list("networkpolicies", { namespace: ns }).length, labelled: c.list("pods", { namespace: ns, labelSelector: "chaoscast.io/isolate" }).length }) };
}

interface Schedulable {
  unschedulable: boolean;
}
async function aNode(options: { unschedulable?: boolean; prepare?: (c: Standin) => void } = {}): Promise<Arranged<Schedulable>> {
  const c = await freshCluster();
  const name = "node-a";
  c.addNode(name, {}, { unschedulable: options.unschedulable ?? false });
  options.prepare?.(c);
  return { target: await resolveOne({ kind: "node", names: [name] }), observe: async () => ({ unschedulable: spec(c.get("nodes", undefined, name))?.unschedulable === true }) };
}

interface Readiness {
  ready: number;
}
async function aPodOfThree(): Promise<Arranged<Readiness>> {
  const { c, ns } = await aDeployment(3);
  return { target: await resolveOne({ namespace: ns }), observe: async () => ({ ready: (status(c.get("deployments", ns, "api"))?.readyReplicas as number) ?? 0 }) };
}

runAdapterContract({
  adapter: "kubernetes",
  skip: false,
  cases: [
    adapterContract<Replicas>({ action: "kubernetes.scale", params: { replicas: 0 }, does: "scales the deployment to zero", arrange: scaled, showsFault: (now) => now.replicas === 0 }),
    adapterContract<Isolation>({ action: "kubernetes.network-isolate", params: {}, does: "puts one pod behind a deny-all NetworkPolicy", arrange: () => isolated("pod"), showsFault: (now) => now.policies === 1 && now.labelled === 1 }),
    adapterContract<Isolation>({ action: "kubernetes.network-isolate", params: { direction: "egress" }, does: "puts a deployment's pods behind a deny-egress NetworkPolicy", arrange: () => isolated("deployment"), showsFault: (now) => now.policies === 1 }),
    adapterContract<Schedulable>({ action: "kubernetes.cordon", params: {}, does: "cordons the node", arrange: () => aNode(), showsFault: (now) => now.unschedulable }),
    adapterContract<Schedulable>({ action: "kubernetes.drain", params: { timeout: "10s" }, does: "cordons the node and evicts its pods", arrange: () => aNode(), showsFault: (now) => now.unschedulable }),
    adapterContract<Readiness>({ action: "kubernetes.delete-pod", params: { gracePeriod: "0s" }, does: "deletes a pod, and its deployment has one replica fewer ready until the replacement is", arrange: aPodOfThree, showsFault: (now) => now.ready < 3 }),
  ],
  failing: [
    failingCase<Schedulable>({ action: "kubernetes.cordon", params: {}, when: "someone else cordoned the node", arrange: () => aNode({ unschedulable: true }), error: /already cordoned; chaoscast will not take over/ }),
    failingCase<Replicas>({
      action: "kubernetes.scale",
      params: { replicas: 0 },
      when: "RBAC forbids updating the scale",
      arrange: async () => {
        const arranged = await scaled();
        cluster!.forbid({ verb: "update", resource: "deployments/scale", namespace: arranged.target.namespace! });
        return arranged;
      },
      error: /not allowed to update deployments\/scale .*Grant it with a Role/,
    }),
    failingCase<Schedulable>({
      action: "kubernetes.drain",
      params: { timeout: "1s" },
      when: "a PodDisruptionBudget allows no eviction",
      arrange: () =>
        aNode({
          prepare: (c) => {
            c.addNamespace("playback");
            c.addDeployment("playback", "api", { replicas: 2 });
            c.addPodDisruptionBudget("playback", "api", { matchLabels: { app: "api" }, minAvailable: 2 });
          },
        }),
      error: /could not be evicted within 1s \(a PodDisruptionBudget forbids it\)/,
    }),
  ],
});
