// `kubernetes.exec-kill`: kill a process inside a container through the exec API (as
// `kubectl exec POD -- kill -s KILL 1`), the way an OOM kill or a crash would end it. The command is
// an argument array, never a shell line. The fault is confirmed when the container restarts (its
// restart count goes up) or the pod is replaced; it cannot be undone, the kubelet restarts it.

import { Writable } from "node:stream";
import { z } from "zod";
import { defineAction } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { AdapterError } from "../../errors.js";
import { sleep } from "../../util/abortable.js";
import type { Clients } from "./connection.js";
import { livePod } from "./faults.js";
import { readObject } from "./objects.js";
import type { ObjectRef } from "./targets.js";

const SIGNALS = ["KILL", "TERM", "INT", "QUIT", "HUP", "ABRT", "SEGV", "USR1", "USR2"] as const;

interface PodStatus {
  metadata?: { uid?: string };
  spec?: { containers?: { name: string }[] };
  status?: { containerStatuses?: { name: string; restartCount?: number }[] };
}

function restartsOf(pod: PodStatus | undefined, container: string): number | undefined {
  return pod?.status?.containerStatuses?.find((c) => c.name === container)?.restartCount;
}

/** Run a command in a container; resolves with the exec's status, rejects on a connection failure. */
async function execIn(clients: Clients, ref: ObjectRef, container: string, command: string[], timeoutMs: number): Promise<{ status: string; message: string; output: string }> {
  const { k8s, kc } = clients.conn;
  let output = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (output.length < 4096) output += chunk.toString("utf8");
      done();
    },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new AdapterError(`no answer from the exec within ${Math.round(timeoutMs / 1000)}s`)), timeoutMs);
    new k8s.Exec(kc)
      .exec(ref.namespace ?? "", ref.name, container, command, sink, sink, null, false, (status) => {
        clearTimeout(timer);
        resolve({ status: status.status ?? "Unknown", message: status.message ?? "", output: output.trim() });
      })
      .then((ws) => {
        ws.on("close", () => {
          // A kill of PID 1 may end the container before the status arrives: that is success too.
          clearTimeout(timer);
          resolve({ status: "Closed", message: "", output: output.trim() });
        });
      })
      .catch((err: unknown) => {
        clearTimeout(timer);
        reject(err);
      });
  });
}

export const execKill = defineAction({
  name: "kubernetes.exec-kill",
  description: "Kill a process inside a container through exec (kill -s SIGNAL PID), then check the container restarted; cannot be undone.",
  target: "kubernetes",
  params: z
    .object({
      container: z.string().min(1).optional().meta({ description: "The container; the pod's first when not given." }),
      signal: z.enum(SIGNALS).default("KILL").meta({ description: "The signal, without SIG." }),
      pid: z.int().min(1).default(1).meta({ description: "The process inside the container (1: its main process)." }),
      within: DurationSchema.prefault("30s").meta({ description: "How long the container may take to restart before the fault counts as failed." }),
    })
    .strict(),
  example: { signal: "KILL" },
  reversible: "never",
  async prepare(params, target, ctx) {
    const { ref, clients, pod } = await livePod<PodStatus>("kubernetes.exec-kill", target, ctx);
    const names = pod.spec?.containers?.map((c) => c.name) ?? [];
    const container = params.container ?? names[0];
    if (!container || !names.includes(container)) throw new AdapterError(`kubernetes.exec-kill: pod ${ref.namespace}/${ref.name} has no container "${params.container}" (it has ${names.join(", ") || "none"})`, { action: "kubernetes.exec-kill", target: target!.id });
    const before = restartsOf(pod, container) ?? 0;
    return {
      revert: null,
      async apply() {
        const command = ["kill", "-s", params.signal, String(params.pid)];
        const result = await execIn(clients, ref, container, command, 15_000).catch((err: unknown) => {
          throw new AdapterError(`kubernetes.exec-kill: could not exec in ${ref.namespace}/${ref.name} (${container}): ${(err as Error).message}`, { action: "kubernetes.exec-kill", target: target!.id });
        });
        if (result.status === "Failure") {
          const missing = /not found|no such file|executable file/i.test(`${result.message} ${result.output}`);
          throw new AdapterError(`kubernetes.exec-kill: "${command.join(" ")}" failed in ${ref.namespace}/${ref.name} (${container}): ${result.message}${result.output ? `: ${result.output}` : ""}${missing ? " (the image needs a kill program)" : ""}`, { action: "kubernetes.exec-kill", target: target!.id });
        }
        const deadline = performance.now() + params.within;
        for (;;) {
          const now = (await readObject(clients, ref, ctx)) as PodStatus | undefined;
          if (!now || now.metadata?.uid !== ref.uid || (restartsOf(now, container) ?? 0) > before) return;
          if (performance.now() > deadline) throw new AdapterError(`kubernetes.exec-kill: container ${container} of ${ref.namespace}/${ref.name} did not restart within ${Math.round(params.within / 1000)}s of SIG${params.signal}${params.signal === "KILL" ? "" : " (does its process handle the signal?)"}${params.pid === 1 ? "" : ` (only the end of PID 1 restarts a container; ${params.pid} may have ended without that)`}`, { action: "kubernetes.exec-kill", target: target!.id });
          await sleep(250, ctx.signal);
        }
      },
    };
  },
});

