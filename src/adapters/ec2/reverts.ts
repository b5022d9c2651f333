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
import { removeRecordTags, TAG } from "./records.js";
import { groupsOf, readInstance, tagsOf, type Instance } from "./targets.js";

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
// Data from a state file or from tags anyone with ec2:CreateTags can write: the group to delete can
// only be chaoscast's own for this run and this instance, in a named VPC.
const GroupsData = z
  .object({
    ...Base,
    groups: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/)).min(1).max(16),
    isolationGroup: z.string().min(1).max(255),
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/),
  })
  .refine((d) => d.isolationGroup === isolationGroupName(d.runId, d.instanceId), { message: "the isolation group is not the one chaoscast names for this run and instance" });

/** chaoscast's deny-all group for one run and one instance. */
export function isolationGroupName(runId: string, instanceId: string): string {
  return `chaoscast-isolate-${runId}-${instanceId}`.slice(0, 255);
}

/** Whether the instance still carries this run's record: if not, the fault is no longer this run's to undo. */
function carriesRun(instance: Instance | undefined, runId: string): boolean {
  return instance !== undefined && tagsOf(instance)[TAG.run] === runId;
}

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
    // The record goes on before the stop and comes off only once the instance runs again: without
    // it, this stop was undone already (by another rollback) and whoever stopped it since meant to.
    if (!carriesRun(instance, d.runId)) {
      ctx.note(`${d.instanceId} no longer carries run ${d.runId}'s record: its stop was undone already; left ${state}`);
      return;
    }
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
    const instance = await call(`ec2:DescribeInstances on ${d.instanceId}`, () => readInstance(ec2, d.instanceId));
    const state = instance?.State?.Name;
    if (state === "running" || !carriesRun(instance, d.runId)) return null;
    return `${d.instanceId} is ${state ?? "gone"}, not running`;
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
    const isolation = await findIsolationGroups(ec2, d.isolationGroup, d.vpcId);
    if (instance && state !== "terminated" && state !== "shutting-down") {
      // Only an instance still in chaoscast's own group gets its recorded groups back: one that is
      // not was never isolated (a run killed before), or was given groups by someone since.
      const now = groupsOf(instance);
      if (now.some((g) => isolation.includes(g))) await call(`ec2:ModifyInstanceAttribute on ${d.instanceId}`, () => ec2.client.send(new ec2.m.ModifyInstanceAttributeCommand({ InstanceId: d.instanceId, Groups: d.groups })));
      else ctx.note(`${d.instanceId} is not in ${d.isolationGroup}; its security groups are left as they are`);
    } else ctx.note(`${d.instanceId} is ${state ?? "gone"}; only chaoscast's group is left to delete`);
    await deleteIsolationGroup(ec2, d.isolationGroup, d.vpcId, ctx);
    if (instance) await removeRecordTags(ec2, d.instanceId, d.runId, tagsOf((await readInstance(ec2, d.instanceId)) ?? {}));
  },
  async verify(d) {
    const ec2 = await ec2For(d.region, d.profile);
    const instance = await call(`ec2:DescribeInstances on ${d.instanceId}`, () => readInstance(ec2, d.instanceId));
    const isolation = await findIsolationGroups(ec2, d.isolationGroup, d.vpcId);
    if (instance && instance.State?.Name !== "terminated" && groupsOf(instance).some((g) => isolation.includes(g))) return `${d.instanceId} is still in ${d.isolationGroup}`;
    return isolation.length > 0 ? `security group ${d.isolationGroup} still exists` : null;
  },
});

/** chaoscast's deny-all group of one fault, found by its name; a group still attached is retried for a while. */
/** The ids of chaoscast's isolation group of that name in that VPC (none, or one). */
async function findIsolationGroups(ec2: Ec2, name: string, vpcId: string): Promise<string[]> {
  const found = await call(`ec2:DescribeSecurityGroups ${name}`, () =>
    ec2.client.send(new ec2.m.DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [name] }, { Name: "vpc-id", Values: [vpcId] }] })),
  );
  return (found.SecurityGroups ?? []).flatMap((g) => (g.GroupId && g.GroupName === name ? [g.GroupId] : []));
}

export async function deleteIsolationGroup(ec2: Ec2, name: string, vpcId: string, ctx: RunContext): Promise<void> {
  for (const groupId of await findIsolationGroups(ec2, name, vpcId)) {
    const group = { GroupId: groupId };
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
