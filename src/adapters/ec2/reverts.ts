// Undoing EC2 faults from data alone (the state file, or the tags of `rollback --region`): start a
// stopped instance and wait until it runs; give an isolated instance its security groups back and
// delete chaoscast's deny-all group. Each is idempotent, checks the instance afterwards, and removes
// the run's record tags once the instance is back.

import { z } from "zod";
import { defineRevert, type RunContext } from "../../contract/adapter.js";
import { RunIdSchema } from "../../contract/common-schemas.js";
import { AdapterError } from "../../errors.js";
import { sleep } from "../../util/abortable.js";
import { call, ec2For, type Ec2 } from "./connection.js";
import { removeRecordTags } from "./records.js";
import { groupsOf, readInstance, tagsOf } from "./targets.js";

const Base = {
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/),
  profile: z.string().max(128).optional(),
  instanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
  runId: RunIdSchema,
};

/** How long a revert waits for an instance to reach the state it asked for. */
const WAIT_MS = 10 * 60_000;
const POLL_MS = 2_000;

const StartData = z.object(Base);
const GroupsData = z.object({
  ...Base,
  groups: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/)).min(1).max(16),
  isolationGroup: z.string().min(1).max(255),
  vpcId: z.string().max(64),
});

/** Poll until the instance is in `state` (EC2's waiters, with the run's signal and a deadline). */
async function waitForState(ec2: Ec2, instanceId: string, state: string, ctx: RunContext, ms = WAIT_MS): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    const instance = await call(`ec2:DescribeInstances on ${instanceId}`, () => readInstance(ec2, instanceId));
    const now = instance?.State?.Name;
    if (now === state) return;
    if (!instance || now === "terminated" || now === "shutting-down") throw new AdapterError(`${instanceId} is ${now ?? "gone"}; it cannot become ${state}`);
    if (performance.now() >= deadline) throw new AdapterError(`${instanceId} is still ${now} after ${Math.round(ms / 1000)}s, not ${state}`);
    await sleep(Math.min(POLL_MS, deadline - performance.now()), ctx.signal);
  }
}

export const startRevert = defineRevert({
  kind: "ec2.start",
  data: StartData,
  describe: (d) => `start ${d.instanceId} (${d.region}) and wait until it runs`,
  async run(d, ctx) {
    const ec2 = await ec2For(d.region, d.profile);
    const instance = await call(`ec2:DescribeInstances on ${d.instanceId}`, () => readInstance(ec2, d.instanceId));
    const state = instance?.State?.Name;
    if (!instance || state === "terminated" || state === "shutting-down") throw new AdapterError(`${d.instanceId} is ${state ?? "gone"}: it can no longer be started`);
    if (state === "running") ctx.note(`${d.instanceId} was already running`);
    else {
      // A stop still under way has to finish before EC2 accepts a start.
      if (state === "stopping") await waitForState(ec2, d.instanceId, "stopped", ctx);
      if (state !== "pending") await call(`ec2:StartInstances on ${d.instanceId}`, () => ec2.client.send(new ec2.m.StartInstancesCommand({ InstanceIds: [d.instanceId] })));
      await waitForState(ec2, d.instanceId, "running", ctx);
    }
    await removeRecordTags(ec2, d.instanceId, d.runId, tagsOf((await readInstance(ec2, d.instanceId)) ?? {}));
  },
  async verify(d) {
    const ec2 = await ec2For(d.region, d.profile);
    const state = (await call(`ec2:DescribeInstances on ${d.instanceId}`, () => readInstance(ec2, d.instanceId)))?.State?.Name;
    return state === "running" ? null : `${d.instanceId} is ${state ?? "gone"}, not running`;
  },
});

export const restoreGroupsRevert = defineRevert({
  kind: "ec2.restore-groups",
  data: GroupsData,
  describe: (d) => `give ${d.instanceId} (${d.region}) back its security groups ${d.groups.join(", ")} and delete ${d.isolationGroup}`,
  async run(d, ctx) {
    const ec2 = await ec2For(d.region, d.profile);
    const instance = await call(`ec2:DescribeInstances on ${d.instanceId}`, () => readInstance(ec2, d.instanceId));
    const state = instance?.State?.Name;
    if (instance && state !== "terminated" && state !== "shutting-down") {
      const now = groupsOf(instance).sort();
      if (now.join(" ") === [...d.groups].sort().join(" ")) ctx.note(`${d.instanceId} already has its security groups`);
      else await call(`ec2:ModifyInstanceAttribute on ${d.instanceId}`, () => ec2.client.send(new ec2.m.ModifyInstanceAttributeCommand({ InstanceId: d.instanceId, Groups: d.groups })));
    } else ctx.note(`${d.instanceId} is ${state ?? "gone"}; only chaoscast's group is left to delete`);
    await deleteIsolationGroup(ec2, d.isolationGroup, d.vpcId, ctx);
    if (instance) await removeRecordTags(ec2, d.instanceId, d.runId, tagsOf((await readInstance(ec2, d.instanceId)) ?? {}));
  },
  async verify(d) {
    const ec2 = await ec2For(d.region, d.profile);
    const instance = await call(`ec2:DescribeInstances on ${d.instanceId}`, () => readInstance(ec2, d.instanceId));
    if (!instance || instance.State?.Name === "terminated") return null;
    const now = groupsOf(instance).sort();
    const wanted = [...d.groups].sort();
    return now.join(" ") === wanted.join(" ") ? null : `${d.instanceId} has security groups ${now.join(", ") || "none"}, not ${wanted.join(", ")}`;
  },
});

/** chaoscast's deny-all group of one fault, found by its name; a group still attached is retried for a while. */
export async function deleteIsolationGroup(ec2: Ec2, name: string, vpcId: string, ctx: RunContext): Promise<void> {
  const found = await call(`ec2:DescribeSecurityGroups ${name}`, () =>
    ec2.client.send(new ec2.m.DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [name] }, ...(vpcId ? [{ Name: "vpc-id", Values: [vpcId] }] : [])] })),
  );
  for (const group of found.SecurityGroups ?? []) {
    const deadline = performance.now() + 60_000;
    for (;;) {
      try {
        await ec2.client.send(new ec2.m.DeleteSecurityGroupCommand({ GroupId: group.GroupId! }));
        break;
      } catch (err) {
        const code = (err as { name?: string }).name;
        if (code === "InvalidGroup.NotFound") break;
        // EC2 frees the group from the network interface a little after the instance changes groups.
        if (code !== "DependencyViolation" || performance.now() >= deadline) throw new AdapterError(`could not delete security group ${group.GroupId} (${name}): ${(err as Error).message}`, {}, { cause: err });
        await sleep(2_000, ctx.signal);
      }
    }
  }
}

export { waitForState };
