// `{ kubernetes: { … } }` target blocks: pods (the default), deployments, statefulsets or nodes, by
// namespace, label and field selectors and names, in the current context or a named one. Lists are
// paginated; the engine applies `select`, the chaoscast.io/exclude=true label and the policy.

import { z } from "zod";
import { defineTargets, type RunContext, type Target } from "../../contract/adapter.js";
import { listAll, PAGE_SIZE, type Request } from "./api.js";
import { clientsFor, connect, type Clients, type Connection } from "./connection.js";

const KINDS = ["pod", "deployment", "statefulset", "node"] as const;
export type ObjectKind = (typeof KINDS)[number];

/** A DNS-1123 name (namespaces, most object names): what the API server itself accepts. */
const DnsName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, { error: "expected a Kubernetes name (lower-case letters, digits, '-' and '.')" });

export const KubernetesSelectorSchema = z
  .object({
    context: z.string().min(1).optional().meta({ description: "The kubeconfig context; the current one when not given." }),
    namespace: DnsName.optional().meta({ description: "The namespace; the context's own (or the pod's) when neither this nor namespaces is given." }),
    namespaces: z.array(DnsName).min(1).optional().meta({ description: "Several namespaces, searched in turn." }),
    labelSelector: z.string().min(1).optional().meta({ description: "A label selector as kubectl takes it: app=playback-api,tier!=canary." }),
    fieldSelector: z.string().min(1).optional().meta({ description: "A field selector: status.phase=Running, spec.nodeName=node-1." }),
    kind: z.enum(KINDS).default("pod").meta({ description: "What to select." }),
    names: z.array(z.string().min(1)).min(1).optional().meta({ description: "Only objects with these names." }),
  })
  .strict()
  .refine((s) => !(s.namespace && s.namespaces), { message: "give namespace or namespaces, not both", path: ["namespaces"] })
  .refine((s) => s.kind !== "node" || (!s.namespace && !s.namespaces), { message: "nodes belong to no namespace: remove namespace for kind: node", path: ["namespace"] });

export type KubernetesSelector = z.output<typeof KubernetesSelectorSchema>;

/** What an action or revert needs to find the object again; the server guards against another cluster. */
export interface ObjectRef {
  context: string;
  server: string;
  kind: ObjectKind;
  namespace: string | null;
  name: string;
  uid: string;
}

export const ObjectRefSchema = z
  .object({
    context: z.string().min(1).max(253),
    server: z.string().max(2048),
    kind: z.enum(KINDS),
    namespace: DnsName.nullable(),
    name: z.string().min(1).max(253),
    uid: z.string().max(128),
  })
  .strict();

function namespacesOf(selector: KubernetesSelector, conn: Connection): (string | null)[] {
  if (selector.kind === "node") return [null];
  return selector.namespaces ?? [selector.namespace ?? conn.defaultNamespace];
}

/** Where a selector reaches, known from the kubeconfig alone: for the policy, before any request. */
async function scopeOf(selector: KubernetesSelector): Promise<{ context: string; namespaces: string[] }> {
  const conn = await connect(selector.context);
  return { context: conn.context, namespaces: namespacesOf(selector, conn).filter((n): n is string => n !== null) };
}

interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  deletionTimestamp?: Date | string;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}
export interface KubeObject {
  metadata?: Meta;
  /** Read per kind by whoever needs it (a pod's phase, a workload's replica counts). */
  status?: unknown;
}

const RESOURCE: Record<ObjectKind, { resource: string; group: string }> = {
  pod: { resource: "pods", group: "" },
  deployment: { resource: "deployments", group: "apps" },
  statefulset: { resource: "statefulsets", group: "apps" },
  node: { resource: "nodes", group: "" },
};

export function requestFor(kind: ObjectKind, verb: Request["verb"], namespace: string | null, name?: string, subresource?: string): Request {
  const { resource, group } = RESOURCE[kind];
  return { verb, resource: subresource ? `${resource}/${subresource}` : resource, group, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
}

async function listKind(clients: Clients, selector: KubernetesSelector, namespace: string | null, ctx: RunContext): Promise<KubeObject[]> {
  const query = { labelSelector: selector.labelSelector, fieldSelector: selector.fieldSelector, limit: PAGE_SIZE };
  const options = { signal: ctx.signal, context: clients.conn.context, onRetry: ctx.note };
  const req = requestFor(selector.kind, "list", namespace);
  const ns = namespace ?? "";
  switch (selector.kind) {
    case "pod":
      return listAll<KubeObject>(req, (cont) => clients.core.listNamespacedPod({ namespace: ns, ...query, _continue: cont }), options);
    case "deployment":
      return listAll<KubeObject>(req, (cont) => clients.apps.listNamespacedDeployment({ namespace: ns, ...query, _continue: cont }), options);
    case "statefulset":
      return listAll<KubeObject>(req, (cont) => clients.apps.listNamespacedStatefulSet({ namespace: ns, ...query, _continue: cont }), options);
    case "node":
      return listAll<KubeObject>(req, (cont) => clients.core.listNode({ ...query, _continue: cont }), options);
  }
}

/** What a person reads: the object, and which cluster it is in (a current context is easy to forget). */
export function describeObject(ref: Pick<ObjectRef, "kind" | "namespace" | "name" | "context">): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name} (context ${ref.context})`;
}

/** A pod that is going away or has ended is no candidate: hitting it would prove nothing. */
function isLive(kind: ObjectKind, obj: KubeObject): boolean {
  if (obj.metadata?.deletionTimestamp) return false;
  return kind !== "pod" || !["Succeeded", "Failed"].includes((obj.status as { phase?: string } | undefined)?.phase ?? "");
}

export function refOf(target: Target): ObjectRef {
  return ObjectRefSchema.parse(target.data.ref);
}

export const kubernetesTargets = defineTargets({
  selector: KubernetesSelectorSchema,
  describe: (s) => {
    const what = `${s.kind === "statefulset" ? "statefulsets" : `${s.kind}s`}${s.names ? ` ${s.names.join(", ")}` : ""}${s.labelSelector ? ` matching ${s.labelSelector}` : ""}${s.fieldSelector ? ` with ${s.fieldSelector}` : ""}`;
    const where = s.kind === "node" ? "" : ` in ${s.namespaces ? `namespaces ${s.namespaces.join(", ")}` : s.namespace ? `namespace ${s.namespace}` : "the context's namespace"}`;
    return `${what}${where}${s.context ? ` (context ${s.context})` : ""}`;
  },
  scope: async (selector) => {
    const { context, namespaces } = await scopeOf(selector);
    return { context, namespaces };
  },
  async resolve(selector, ctx) {
    const conn = await connect(selector.context);
    const clients = clientsFor(conn);
    const targets: Target[] = [];
    for (const namespace of namespacesOf(selector, conn)) {
      for (const obj of await listKind(clients, selector, namespace, ctx)) {
        const meta = obj.metadata ?? {};
        if (!meta.name || !isLive(selector.kind, obj)) continue;
        if (selector.names && !selector.names.includes(meta.name)) continue;
        const ref: ObjectRef = { context: conn.context, server: conn.server, kind: selector.kind, namespace, name: meta.name, uid: meta.uid ?? "" };
        const owner = meta.ownerReferences?.find((o) => o.controller);
        targets.push({
          id: `${selector.kind}:${namespace ? `${namespace}/` : ""}${meta.name}`,
          label: describeObject(ref),
          kind: "kubernetes",
          labels: meta.labels ?? {},
          context: conn.context,
          ...(namespace ? { namespace } : {}),
          data: { ref, ...(owner ? { owner: { kind: owner.kind, name: owner.name } } : {}) },
        });
      }
    }
    return targets;
  },
});
