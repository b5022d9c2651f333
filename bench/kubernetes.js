// A big cluster: 10,000 pods (100 deployments of 100) behind the stand-in API server, and a run of
// `chaoscast run` that selects 1% of them by label and deletes them with kubernetes.delete-pod
// (each revert waiting for its owner to be ready again). Printed: the run's wall time and peak
// memory (the CLI as its own process), against a baseline measured in the same run: the same list
// (paginated) and the same 100 deletes made directly with @kubernetes/client-node.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const name = "kubernetes";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "bin", "chaoscast.js");

/** The stand-in is TypeScript under fixtures/: compile it once into a scratch directory. */
function compileStandin(dir) {
  const out = path.join(dir, "standin");
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, "package.json"), '{ "type": "module" }\n');
  const tsc = path.join(ROOT, "node_modules", ".bin", "tsc");
  const args = ["--ignoreConfig", "--outDir", out, "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", "--types", "node", "--rootDir", path.join(ROOT, "fixtures", "kubernetes"), path.join(ROOT, "fixtures", "kubernetes", "standin.ts")];
  execFileSync(tsc, args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  return path.join(out, "standin.js");
}

/** Run the CLI as a user would; wall time, and peak RSS where GNU time is there to tell it. */
function runCli(args, env) {
  const time = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
  const [command, argv] = time ? [time, ["-f", "%M", process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, argv, { env: { ...process.env, ...env, CI: "1", NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const seconds = (performance.now() - started) / 1000;
      const lastLine = err.trim().split("\n").pop() ?? "";
      const peakKiB = time && /^\d+$/.test(lastLine) ? Number(lastLine) : null;
      if (code !== 0) reject(new Error(`chaoscast run exited ${code}:\n${out}\n${err}`));
      else resolve({ seconds, peakMiB: peakKiB === null ? null : Math.round(peakKiB / 1024) });
    });
  });
}

async function seed(standin, deployments, perDeployment) {
  standin.addNamespace("playback");
  for (let i = 0; i < deployments; i++) standin.addDeployment("playback", `api-${i}`, { replicas: perDeployment, labels: { app: "playback-api", shard: String(i) } });
}

export async function run({ quick, signal, log }) {
  const work = mkdtempSync(path.join(tmpdir(), "chaoscast-bench-k8s-"));
  try {
    log("kubernetes: compiling the stand-in API server");
    const { startStandin } = await import(pathToFileURL(compileStandin(work)).href);
    const deployments = quick ? 10 : 100;
    const perDeployment = 100;
    const total = deployments * perDeployment;
    const k8s = await import("@kubernetes/client-node");

    // Baseline: the same list and deletes straight through the client, in this process.
    log(`kubernetes: baseline, client-node lists ${total} pods and deletes 1%`);
    const base = await startStandin({});
    base.readyDelayMs = 10;
    await seed(base, deployments, perDeployment);
    const baseConfig = path.join(work, "base-kubeconfig");
    base.writeKubeconfig(baseConfig, { context: "bench" });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(baseConfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const started = performance.now();
    const pods = [];
    let cont;
    do {
      const page = await core.listNamespacedPod({ namespace: "playback", labelSelector: "app=playback-api", limit: 500, _continue: cont });
      pods.push(...page.items);
      cont = page.metadata?._continue || undefined;
    } while (cont);
    for (const pod of pods.slice(0, Math.ceil(total / 100))) await core.deleteNamespacedPod({ name: pod.metadata.name, namespace: "playback", gracePeriodSeconds: 0 });
    const baselineSeconds = (performance.now() - started) / 1000;
    await base.close();
    if (signal.aborted) throw signal.reason;

    log(`kubernetes: chaoscast run deletes 1% of ${total} pods`);
    const standin = await startStandin({});
    standin.readyDelayMs = 10;
    await seed(standin, deployments, perDeployment);
    const kubeconfig = path.join(work, "kubeconfig");
    standin.writeKubeconfig(kubeconfig, { context: "bench" });
    const experiment = path.join(work, "kill.yaml");
    writeFileSync(
      experiment,
      `version: 1
title: 1% of ${total} pods
duration: 1s
targets:
  api:
    kubernetes: { namespace: playback, labelSelector: app=playback-api }
    select: { percent: 1 }
faults:
  - { name: kill 1%, target: api, action: kubernetes.delete-pod, with: { gracePeriod: 0s } }
`,
    );
    standin.clearRequests();
    const chaoscast = await runCli(["run", experiment, "--yes", "--watchdog", "off"], { KUBECONFIG: kubeconfig, CHAOSCAST_DIR: path.join(work, "state") });
    const deleted = standin.requests.filter((r) => r.method === "DELETE" && r.path.includes("/pods/")).length;
    await standin.close();
    return {
      pods: total,
      deleted,
      runSeconds: Math.round(chaoscast.seconds * 100) / 100,
      peakMiB: chaoscast.peakMiB,
      baselineSeconds: Math.round(baselineSeconds * 100) / 100,
      ratio: Math.round((chaoscast.seconds / baselineSeconds) * 10) / 10,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function format(r) {
  return [
    `chaoscast run, 1% of ${r.pods} pods deleted (${r.deleted}), each revert waiting for its owner: ${r.runSeconds} s, peak ${r.peakMiB ?? "?"} MiB`,
    `baseline, the same list and deletes straight through client-node:          ${r.baselineSeconds} s`,
    `ratio (the whole CLI run, start-up, preflight, state file and recovery waits included): ×${r.ratio}`,
  ].join("\n");
}
