// The `ec2` probe: how many instances a selector matches are in each state, and, for an
// auto-scaling group, how many are in service against its desired capacity.

import { z } from "zod";
import { defineProbe } from "../../contract/adapter.js";
import { DurationSchema } from "../../contract/common-schemas.js";
import { abortMessage, combinedSignal } from "../../util/abortable.js";
import { ec2For, explain, loadEc2 } from "./connection.js";
import { Ec2SelectorSchema, filtersOf } from "./targets.js";

type AutoScalingModule = typeof import("@aws-sdk/client-auto-scaling");
let autoScaling: Promise<AutoScalingModule> | undefined;
const autoScalingClients = new Map<string, InstanceType<AutoScalingModule["AutoScalingClient"]>>();

export const ec2Probe = defineProbe({
  name: "ec2",
  description: "Count the EC2 instances a selector matches by state; with asg, the group's in-service instances against its desired capacity.",
  params: z
    .object({
      instances: Ec2SelectorSchema.meta({ description: "Which instances: ids, filters, asg or az, as in an ec2 target (all states counted)." }),
      timeout: DurationSchema.prefault("10s").meta({ description: "Give up after this long." }),
    })
    .strict(),
  example: { instances: { region: "us-east-1", filters: { "tag:role": "vod-origin" } } },
  primaryField: "running",
  fields: {
    running: "instances running",
    pending: "instances starting",
    stopping: "instances stopping",
    stopped: "instances stopped",
    total: "instances matched (not counting terminated ones)",
    runningRatio: "running / total (1 when none matched)",
    inService: "with asg: the group's instances in service",
    desired: "with asg: the group's desired capacity",
  },
  defaultExpect: { running: ">= 1" },
  timeoutOf: (params) => params.timeout,
  async run(params, ctx) {
    const started = performance.now();
    const limitMs = Math.min(params.timeout, ctx.timeoutMs);
    const abortSignal = combinedSignal([ctx.signal], limitMs);
    const s = params.instances;
    try {
      const ec2 = await ec2For(s.region, s.profile);
      const counts: Record<string, number> = { running: 0, pending: 0, stopping: 0, stopped: 0 };
      let total = 0;
      let NextToken: string | undefined;
      const filters = filtersOf({ ...s, filters: { "instance-state-name": ["pending", "running", "stopping", "stopped", "shutting-down"], ...s.filters } });
      do {
        const page = await ec2.client.send(new ec2.m.DescribeInstancesCommand({ ...(s.ids ? { InstanceIds: [s.ids].flat() } : { MaxResults: 1000 }), Filters: filters, ...(NextToken ? { NextToken } : {}) }), { abortSignal });
        for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => s.az === undefined || i.Placement?.AvailabilityZone === s.az)) {
          total += 1;
          const state = instance.State?.Name ?? "";
          if (state in counts) counts[state]! += 1;
        }
        NextToken = page.NextToken;
      } while (NextToken);
      const fields: Record<string, number> = { ...counts, total, runningRatio: total === 0 ? 1 : counts.running! / total };
      if (s.asg) {
        await loadEc2();
        autoScaling ??= import("@aws-sdk/client-auto-scaling");
        const m = await autoScaling;
        // One client per region and profile, as for EC2: a probe round is no place to build one.
        const key = `${ec2.place.region}\u0000${s.profile ?? ""}`;
        let client = autoScalingClients.get(key);
        if (!client) {
          client = new m.AutoScalingClient({ region: ec2.place.region, ...(s.profile ? { profile: s.profile } : {}), maxAttempts: 4 });
          autoScalingClients.set(key, client);
        }
        const groups = await client.send(new m.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [s.asg] }), { abortSignal });
        const group = groups.AutoScalingGroups?.[0];
        if (!group) return { fields, error: `auto-scaling group ${s.asg} not found in ${ec2.place.region}`, summary: "no such group" };
        fields.inService = (group.Instances ?? []).filter((i) => i.LifecycleState === "InService").length;
        fields.desired = group.DesiredCapacity ?? 0;
      }
      const ms = Math.round(performance.now() - started);
      const asg = fields.inService !== undefined ? `; ${fields.inService}/${fields.desired} in service` : "";
      return { fields, summary: `${counts.running}/${total} running${counts.stopped ? `, ${counts.stopped} stopped` : ""}${counts.stopping ? `, ${counts.stopping} stopping` : ""}${asg} (${ms}ms)` };
    } catch (err) {
      if (abortSignal.aborted) return { fields: {}, error: abortMessage(abortSignal, limitMs), summary: "timeout" };
      return { fields: {}, error: explain("ec2:DescribeInstances", err).message, summary: "probe failed" };
    }
  },
});
