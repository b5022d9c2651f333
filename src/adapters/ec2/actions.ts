// EC2 faults. Each prepare only reads (the instance must be as the fault expects: a stop needs a
// running instance, never one someone else stopped); apply tags the instance with the run's record
// and only then changes it. Preflight asks EC2 itself with DryRun, so a missing permission is
// reported before any fault of the run is injected.

import { z } from "zod";
import { defineAction, revertWith, type Injection, type RunContext, type Target } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import { call, dryRun, ec2For, type Ec2 } from "./connection.js";
import { writeRecordTags } from "./records.js";
import { isolationGroupName, restoreGroupsRevert, startRevert } from "./reverts.js";
import { groupsOf, instanceOf, readInstance, type InstanceData } from "./targets.js";

const NoParams = z.object({}).strict();

async function liveInstance(action: string, target: Target | null, wanted: string[]) {
  const data = instanceOf(action, target);
  const ec2 = await ec2For(data.region, data.profile);
  const instance = await call(`ec2:DescribeInstances on ${data.instanceId}`, () => readInstance(ec2, data.instanceId));
  const state = instance?.State?.Name ?? "gone";
  if (!instance || !wanted.includes(state)) {
    throw new AdapterError(`${action}: ${data.instanceId} is ${state}, not ${wanted.join(" or ")}; chaoscast only changes an instance in the state it expects (it never takes over one someone else stopped)`, { action, target: target!.id });
  }
  return { data, ec2, instance };
}

/** The revert's data names the run, so a revert removes this run's record tags and no other's. */
function baseOf(data: InstanceData, ctx: RunContext) {
  return { region: data.region, ...(data.profile ? { profile: data.profile } : {}), instanceId: data.instanceId, runId: ctx.runId };
}

async function prepareStop(action: string, target: Target | null, params: { hibernate: boolean }, ctx: RunContext): Promise<Injection> {
  const { data, ec2 } = await liveInstance(action, target, ["running"]);
  let stopLease: (() => Promise<void>) | undefined;
  return {
    revert: revertWith(startRevert, baseOf(data, ctx), () => stopLease?.()),
    async apply(ctx) {
      // The record goes on before the change, so rollback from anywhere finds what this run did.
      stopLease = await writeRecordTags(ec2, data.instanceId, { runId: ctx.runId, fault: `${action} on ${data.instanceId}`, restore: { k: "start" } }, ctx);
      const answer = await call(`ec2:StopInstances on ${data.instanceId}`, () => ec2.client.send(new ec2.m.StopInstancesCommand({ InstanceIds: [data.instanceId], Hibernate: params.hibernate })));
      const now = answer.StoppingInstances?.[0]?.CurrentState?.Name;
      if (now !== "stopping" && now !== "stopped") throw new AdapterError(`${action}: EC2 answered that ${data.instanceId} is ${now ?? "in no state"} after the stop`, { action, target: target!.id });
      ctx.note(`${data.instanceId} is ${now}`);
    },
  };
}

async function prepareIsolate(action: string, target: Target | null, ctx: RunContext): Promise<Injection> {
  const { data, ec2, instance } = await liveInstance(action, target, ["pending", "running", "stopping", "stopped"]);
  const groups = groupsOf(instance);
  if (groups.length === 0) throw new AdapterError(`${action}: ${data.instanceId} has no security group to swap (is it in a VPC?)`, { action, target: target!.id });
  if (!data.vpcId) throw new AdapterError(`${action}: ${data.instanceId} is in no VPC`, { action, target: target!.id });
  // Named after the run and the instance, so the revert, written before the group exists, finds it.
  const name = isolationGroupName(ctx.runId, data.instanceId);
  let stopLease: (() => Promise<void>) | undefined;
  return {
    revert: revertWith(restoreGroupsRevert, { ...baseOf(data, ctx), groups, isolationGroup: name, vpcId: data.vpcId }, () => stopLease?.()),
    async apply(ctx) {
      stopLease = await writeRecordTags(ec2, data.instanceId, { runId: ctx.runId, fault: `${action} on ${data.instanceId}`, restore: { k: "groups", g: groups, n: name, v: data.vpcId } }, ctx);
      const created = await call(`ec2:CreateSecurityGroup ${name}`, () =>
        ec2.client.send(
          new ec2.m.CreateSecurityGroupCommand({
            GroupName: name,
            Description: `chaoscast: deny all traffic to and from ${data.instanceId} (run ${ctx.runId})`.slice(0, 255),
            VpcId: data.vpcId,
            TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "chaoscast.io/run", Value: ctx.runId }] }],
          }),
        ),
      );
      const groupId = created.GroupId!;
      // A new group allows all egress: that rule goes, so the group lets nothing in or out.
      await call(`ec2:RevokeSecurityGroupEgress on ${groupId}`, () =>
        ec2.client.send(new ec2.m.RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })),
      );
      await call(`ec2:ModifyInstanceAttribute on ${data.instanceId}`, () => ec2.client.send(new ec2.m.ModifyInstanceAttributeCommand({ InstanceId: data.instanceId, Groups: [groupId] })));
      ctx.note(`${data.instanceId} isolated in ${groupId} (${name}); its groups were ${groups.join(", ")}`);
    },
  };
}



/** The record tags every undoable fault writes first: a run that could not write them must not start. */
function dryRunRecord(ec2: Ec2, instanceId: string): Promise<void> {
  return dryRun(`ec2:CreateTags on ${instanceId} (the record)`, () => ec2.client.send(new ec2.m.CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: "chaoscast.io/run", Value: "dry-run" }], DryRun: true })));
}

const StopParams = z
  .object({ hibernate: z.boolean().default(false).meta({ description: "Hibernate instead of a plain stop (the instance must be enabled for it)." }) })
  .strict();

export const stop = defineAction({
  name: "ec2.stop",
  description: "Stop instances (an instance outage); the revert starts them again and waits until they run.",
  target: "ec2",
  reversible: "always",
  params: StopParams,
  example: {},
  preflight: async (_p, target) => {
    const { data, ec2 } = await liveInstance("ec2.stop", target, ["running"]);
    await dryRun(`ec2:StopInstances on ${data.instanceId}`, () => ec2.client.send(new ec2.m.StopInstancesCommand({ InstanceIds: [data.instanceId], DryRun: true })));
    await dryRun(`ec2:StartInstances on ${data.instanceId} (the revert)`, () => ec2.client.send(new ec2.m.StartInstancesCommand({ InstanceIds: [data.instanceId], DryRun: true })));
    await dryRunRecord(ec2, data.instanceId);
  },
  prepare: (params, target, ctx) => prepareStop("ec2.stop", target, params, ctx),
});

export const reboot = defineAction({
  name: "ec2.reboot",
  description: "Reboot instances. Nothing to undo: they come back by themselves (watch them with the ec2 probe).",
  target: "ec2",
  reversible: "never",
  params: NoParams,
  example: {},
  preflight: async (_p, target) => {
    const { data, ec2 } = await liveInstance("ec2.reboot", target, ["running"]);
    await dryRun(`ec2:RebootInstances on ${data.instanceId}`, () => ec2.client.send(new ec2.m.RebootInstancesCommand({ InstanceIds: [data.instanceId], DryRun: true })));
  },
  async prepare(_p, target) {
    const { data, ec2 } = await liveInstance("ec2.reboot", target, ["running"]);
    return {
      revert: null,
      apply: async () => void (await call(`ec2:RebootInstances on ${data.instanceId}`, () => ec2.client.send(new ec2.m.RebootInstancesCommand({ InstanceIds: [data.instanceId] })))),
    };
  },
});

export const terminate = defineAction({
  name: "ec2.terminate",
  description: "Terminate instances. CANNOT BE UNDONE: refused unless the blast-radius policy says allowTerminate: true (for instances an auto-scaling group replaces).",
  target: "ec2",
  reversible: "never",
  requiresPolicy: "allowTerminate",
  params: NoParams,
  example: {},
  preflight: async (_p, target) => {
    const { data, ec2 } = await liveInstance("ec2.terminate", target, ["pending", "running", "stopping", "stopped"]);
    await dryRun(`ec2:TerminateInstances on ${data.instanceId}`, () => ec2.client.send(new ec2.m.TerminateInstancesCommand({ InstanceIds: [data.instanceId], DryRun: true })));
  },
  async prepare(_p, target) {
    const { data, ec2 } = await liveInstance("ec2.terminate", target, ["pending", "running", "stopping", "stopped"]);
    return {
      revert: null,
      async apply(ctx) {
        await call(`ec2:TerminateInstances on ${data.instanceId}`, () => ec2.client.send(new ec2.m.TerminateInstancesCommand({ InstanceIds: [data.instanceId] })));
        ctx.note(`${data.instanceId} terminated: this cannot be undone`);
      },
    };
  },
});

export const isolate = defineAction({
  name: "ec2.isolate",
  description: "Swap the instances' security groups for a deny-all group chaoscast creates (a network partition); the revert restores the recorded groups and deletes chaoscast's group.",
  target: "ec2",
  reversible: "always",
  params: NoParams,
  example: {},
  preflight: async (_p, target) => {
    const { data, ec2, instance } = await liveInstance("ec2.isolate", target, ["pending", "running", "stopping", "stopped"]);
    await dryRun(`ec2:CreateSecurityGroup in ${data.vpcId}`, () => ec2.client.send(new ec2.m.CreateSecurityGroupCommand({ GroupName: "chaoscast-dry-run", Description: "dry run", VpcId: data.vpcId, DryRun: true })));
    await dryRun(`ec2:ModifyInstanceAttribute on ${data.instanceId}`, () => ec2.client.send(new ec2.m.ModifyInstanceAttributeCommand({ InstanceId: data.instanceId, Groups: groupsOf(instance), DryRun: true })));
    await dryRunRecord(ec2, data.instanceId);
  },
  prepare: (_p, target, ctx) => prepareIsolate("ec2.isolate", target, ctx),
});

const AzOutageParams = z
  .object({
    zone: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}[a-z]$/, { error: "expected an availability zone such as us-east-1a" }).meta({ description: "The availability zone that goes dark; every target must be in it." }),
    mode: z.enum(["stop", "isolate"]).default("stop").meta({ description: "stop: the instances lose power (as in AWS FIS's AZ power interruption); isolate: they lose the network." }),
  })
  .strict();

function inZone(target: Target | null, zone: string): void {
  const data = instanceOf("ec2.az-outage", target);
  if (data.az !== zone) throw new AdapterError(`ec2.az-outage of ${zone}: ${data.instanceId} is in ${data.az}; add az: ${zone} to the target so only that zone's instances are chosen`, { action: "ec2.az-outage", target: target!.id });
}

export const azOutage = defineAction({
  name: "ec2.az-outage",
  description: "An availability-zone outage: stop (or isolate) every chosen instance of one zone, the zone recorded in the journal.",
  target: "ec2",
  reversible: "always",
  params: AzOutageParams,
  example: { zone: "us-east-1a", mode: "stop" },
  preflight: async (params, target, ctx) => {
    inZone(target, params.zone);
    await (params.mode === "stop" ? stop : isolate).preflight!({ hibernate: false }, target, ctx);
  },
  async prepare(params, target, ctx) {
    inZone(target, params.zone);
    const injection = params.mode === "stop" ? await prepareStop("ec2.az-outage", target, { hibernate: false }, ctx) : await prepareIsolate("ec2.az-outage", target, ctx);
    return {
      revert: injection.revert,
      async apply(ctx) {
        ctx.note(`availability zone ${params.zone} outage (${params.mode}): ${instanceOf("ec2.az-outage", target).instanceId}`);
        await injection.apply(ctx);
      },
    };
  },
});
