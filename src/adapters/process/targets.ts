// `process` targets: { pid } | { name } | { port }. Never chaoscast itself or its ancestors.

import { z } from "zod";
import { PreflightError } from "../../errors.js";
import { defineTargets, type Target } from "../../contract/adapter.js";
import { listProcesses, matchesName, ownLineage, pidsListeningOn, processLabels, readProcess, type ProcessInfo } from "./proc.js";

export const ProcessSelectorSchema = z
  .object({
    pid: z.int().min(2, { error: "pid 1 (init) is never a target" }).optional().meta({ description: "The process with this id (pid 1 is refused)." }),
    name: z.string().min(1).optional().meta({ description: "Every process whose kernel name is exactly this, or whose argv[0] basename is. On Linux the kernel name (comm) is cut to 15 characters; argv[0] is not." }),
    port: z.int().min(1).max(65535).optional().meta({ description: "Every process holding a TCP socket in LISTEN state on this port (any local address, IPv4 or IPv6); pre-fork servers may give several." }),
  })
  .strict()
  .refine((s) => [s.pid, s.name, s.port].filter((v) => v !== undefined).length === 1, {
    message: "a process target takes exactly one of pid, name or port",
  });

type ProcessSelector = z.output<typeof ProcessSelectorSchema>;

export function toTarget(info: ProcessInfo, how: string, labels: Record<string, string> = {}): Target {
  return {
    id: `pid:${info.pid}`,
    label: `${info.name} (pid ${info.pid}${how})`,
    kind: "process",
    data: { pid: info.pid, name: info.name, startTime: info.startTime ?? null },
    labels,
  };
}

function describe(selector: ProcessSelector): string {
  if (selector.pid !== undefined) return `process with pid ${selector.pid}`;
  if (selector.port !== undefined) return `process listening on TCP port ${selector.port}`;
  return `processes named "${selector.name}"`;
}

export const processTargets = defineTargets({
  selector: ProcessSelectorSchema,
  describe,
  async resolve(selector) {
    const protectedPids = await ownLineage();
    let found: { info: ProcessInfo; how: string }[] = [];
    if (selector.pid !== undefined) {
      const info = await readProcess(selector.pid);
      if (info) found = [{ info, how: "" }];
    } else if (selector.port !== undefined) {
      const pids = await pidsListeningOn(selector.port);
      const infos = await Promise.all(pids.map((pid) => readProcess(pid)));
      found = infos.filter((i): i is ProcessInfo => i !== undefined).map((info) => ({ info, how: `, port ${selector.port}` }));
    } else {
      found = (await listProcesses()).filter((p) => matchesName(p, selector.name!)).map((info) => ({ info, how: "" }));
    }
    const own = found.filter((f) => protectedPids.has(f.info.pid));
    if (own.length > 0 && selector.pid !== undefined) {
      throw new PreflightError(`${describe(selector)} is chaoscast itself or one of its parents; it is never a target`);
    }
    const eligible = found.filter((f) => !protectedPids.has(f.info.pid) && f.info.state !== "Z");
    return Promise.all(
      eligible.map(async (f) => {
        const { labels, unreadable } = await processLabels(f.info.pid);
        return toTarget(f.info, `${f.how}${unreadable ? "; its environment cannot be read to check chaoscast.io/exclude" : ""}`, labels);
      }),
    );
  },
});
