// Reaching a cluster the way kubectl does: the files in KUBECONFIG (merged, the first one's
// current-context winning), else ~/.kube/config, else the pod's service account when chaoscast runs
// in a cluster. A context is named per target (or the current one is used). @kubernetes/client-node
// is loaded on first use only, so `chaoscast --help` never pays for it.
//
// Unlike the client's own loadFromDefault, nothing here falls back to http://localhost:8080: with no
// configuration at all, the user is told what was looked for.

import { existsSync, readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import path from "node:path";
import { UsageError } from "../../errors.js";

export type KubeModule = typeof import("@kubernetes/client-node");
type KubeConfig = InstanceType<KubeModule["KubeConfig"]>;

/** Where the service account's token, CA and namespace are mounted in a pod. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The name chaoscast gives the in-cluster context (there is no kubeconfig to name it). */
export const IN_CLUSTER_CONTEXT = "in-cluster";

let kubeModule: Promise<KubeModule> | undefined;
function loadKubeModule(): Promise<KubeModule> {
  kubeModule ??= import("@kubernetes/client-node");
  return kubeModule;
}

/** Where the configuration was found, for messages. */
export interface ConfigSource {
  files: string[];
  inCluster: boolean;
}

/** One context of the configuration, ready to make API clients. */
export interface Connection {
  k8s: KubeModule;
  kc: KubeConfig;
  context: string;
  /** The API server's URL: recorded with every fault, so a revert never goes to another cluster. */
  server: string;
  /** The context's namespace (or the pod's), used when a target names none. */
  defaultNamespace: string;
  source: ConfigSource;
}

/** The kubeconfig (or its absence) is wrong: bad input, exit 4, before anything is injected. */
export class KubeConfigError extends UsageError {}

/**
 * Add another kubeconfig's clusters, users and contexts as kubectl merges KUBECONFIG files: the
 * first file to name something wins, and the first current-context set is the one in force.
 */
function mergeFirstWins(into: KubeConfig, from: KubeConfig): void {
  const add = <T extends { name: string }>(have: T[], more: T[]) => [...have, ...more.filter((m) => !have.some((h) => h.name === m.name))];
  into.clusters = add(into.clusters, from.clusters);
  into.users = add(into.users, from.users);
  into.contexts = add(into.contexts, from.contexts);
  if (!into.currentContext && from.currentContext) into.currentContext = from.currentContext;
}

function configFiles(env: NodeJS.ProcessEnv): string[] {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(path.delimiter).filter((f) => f.length > 0);
  const home = path.join(env.HOME || homedir(), ".kube", "config");
  return existsSync(home) ? [home] : [];
}

async function loadConfig(env: NodeJS.ProcessEnv, root: string): Promise<{ kc: KubeConfig; source: ConfigSource; k8s: KubeModule }> {
  const k8s = await loadKubeModule();
  const kc = new k8s.KubeConfig();
  const files = configFiles(env);
  if (files.length > 0) {
    for (const file of files) {
      // kubectl skips a missing file in a KUBECONFIG list; a list of only missing files is an error below.
      if (!existsSync(file)) continue;
      const one = new k8s.KubeConfig();
      try {
        one.loadFromFile(file);
      } catch (err) {
        // The YAML parser's message carries a multi-line snippet: its first line says what is wrong.
        throw new KubeConfigError(`cannot read the kubeconfig ${file}: ${(err as Error).message.split("\n")[0]}`);
      }
      mergeFirstWins(kc, one);
    }
    if (kc.getContexts().length === 0) throw new KubeConfigError(`no usable kubeconfig: ${files.join(", ")} ${files.length > 1 ? "hold" : "holds"} no context (or do not exist)`);
    return { kc, k8s, source: { files: files.filter((f) => existsSync(f)), inCluster: false } };
  }
  const host = env.KUBERNETES_SERVICE_HOST;
  const mount = `${root}${SERVICE_ACCOUNT_DIR}`;
  if (host && existsSync(path.join(mount, "token"))) {
    // The pod's service account, as the API server is reached from inside any pod: HTTPS to
    // KUBERNETES_SERVICE_HOST:PORT, the mounted CA, and the token file re-read as it rotates.
    const server = `https://${isIPv6(host) ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT || "443"}`;
    kc.loadFromOptions({
      clusters: [{ name: IN_CLUSTER_CONTEXT, server, caFile: path.join(mount, "ca.crt"), skipTLSVerify: false }],
      users: [{ name: IN_CLUSTER_CONTEXT, authProvider: { name: "tokenFile", config: { tokenFile: path.join(mount, "token") } } }],
      contexts: [{ name: IN_CLUSTER_CONTEXT, cluster: IN_CLUSTER_CONTEXT, user: IN_CLUSTER_CONTEXT, namespace: readNamespace(mount) }],
      currentContext: IN_CLUSTER_CONTEXT,
    });
    return { kc, k8s, source: { files: [], inCluster: true } };
  }
  throw new KubeConfigError("no Kubernetes configuration found: set KUBECONFIG, create ~/.kube/config, or run chaoscast in a pod with a service account");
}

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  /** A directory the service-account mount is under (tests lay one out); "" (the root) in a pod. */
  serviceAccountRoot?: string;
}

const connections = new Map<string, Promise<Connection>>();

/** The connection for `context` (the current context when not given); cached per process. */
export function connect(context: string | undefined, options: ConnectOptions = {}): Promise<Connection> {
  const env = options.env ?? process.env;
  const key = `${env.KUBECONFIG ?? ""}\0${context ?? ""}`;
  let found = connections.get(key);
  if (!found) {
    found = open(context, env, options.serviceAccountRoot ?? "");
    connections.set(key, found);
    // A failed load is not cached: the user may fix the file and the next run must see it.
    found.catch(() => connections.delete(key));
  }
  return found;
}

/** Forget cached connections (after KUBECONFIG changed, in tests). */
export function forgetConnections(): void {
  connections.clear();
}

async function open(wanted: string | undefined, env: NodeJS.ProcessEnv, root: string): Promise<Connection> {
  const { kc, k8s, source } = await loadConfig(env, root);
  if (source.inCluster && wanted !== undefined && wanted !== IN_CLUSTER_CONTEXT) {
    throw new KubeConfigError(`context "${wanted}" was asked for, but chaoscast runs in a pod with no kubeconfig (its only context is "${IN_CLUSTER_CONTEXT}")`);
  }
  const names = kc.getContexts().map((c) => c.name);
  const context = wanted ?? kc.getCurrentContext();
  if (!context) throw new KubeConfigError(`the kubeconfig (${source.files.join(", ")}) has no current-context: name one with context: in the target (contexts: ${names.join(", ")})`);
  if (!names.includes(context)) throw new KubeConfigError(`no context "${context}" in the kubeconfig (${source.files.join(", ")}); its contexts: ${names.join(", ") || "none"}`);
  kc.setCurrentContext(context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeConfigError(`context "${context}" names a cluster the kubeconfig does not have`);
  return { k8s, kc, context, server: cluster.server, defaultNamespace: kc.getContextObject(context)?.namespace || "default", source };
}

function readNamespace(dir: string): string {
  try {
    // A small file the kubelet writes, read once per connection.
    return readFileSync(path.join(dir, "namespace"), "utf8").trim() || "default";
  } catch {
    return "default";
  }
}

/** The API clients of one connection, made once. */
export interface Clients {
  core: InstanceType<KubeModule["CoreV1Api"]>;
  apps: InstanceType<KubeModule["AppsV1Api"]>;
  networking: InstanceType<KubeModule["NetworkingV1Api"]>;
  conn: Connection;
}

const clientsOf = new WeakMap<Connection, Clients>();

export function clientsFor(conn: Connection): Clients {
  let clients = clientsOf.get(conn);
  if (!clients) {
    const { kc, k8s } = conn;
    clients = { core: kc.makeApiClient(k8s.CoreV1Api), apps: kc.makeApiClient(k8s.AppsV1Api), networking: kc.makeApiClient(k8s.NetworkingV1Api), conn };
    clientsOf.set(conn, clients);
  }
  return clients;
}

/** Request options that send a JSON merge patch (the client's default for patch is a JSON patch). */
export function mergePatch(clients: Clients) {
  const { k8s } = clients.conn;
  return k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
}
