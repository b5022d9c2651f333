// `ec2` targets: instances chosen by ids, EC2 filters (tags, state, anything DescribeInstances
// filters on), an auto-scaling group or an availability zone, in one region. Their tags are the
// target's labels, so an instance tagged chaoscast.io/exclude=true is never a candidate.

import type { Instance } from "@aws-sdk/client-ec2";
import { z } from "zod";
import { defineTargets, type Target } from "../../contract/adapter.js";
import { AdapterError } from "../../errors.js";
import { call, ec2For, type Ec2, type Place } from "./connection.js";

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ZONE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}[a-z]$/;

export const Ec2SelectorSchema = z
  .object({
    region: z.string().regex(REGION, { error: "expected an AWS region such as us-east-1" }).optional().meta({ description: "The region (default: AWS_REGION, or the profile's region)." }),
    profile: z.string().min(1).max(128).optional().meta({ description: "A profile of the shared config (~/.aws/config); default: AWS_PROFILE, or the standard chain." }),
    ids: z
      .union([z.string().regex(INSTANCE_ID, { error: "expected an instance id such as i-0abc12345def67890" }), z.array(z.string().regex(INSTANCE_ID, { error: "expected an instance id such as i-0abc12345def67890" })).min(1)])
      .optional()
      .meta({ description: "Instance ids, one or a list." }),
    filters: z
      .record(z.string().min(1).max(255), z.union([z.string().max(255), z.array(z.string().max(255)).min(1).max(200)]))
      .optional()
      .meta({ description: 'EC2 filters as DescribeInstances takes them, e.g. { "tag:role": vod-origin, instance-type: m6i.large }. Without instance-state-name, running instances only.' }),
    asg: z.string().min(1).max(255).optional().meta({ description: "The instances of this auto-scaling group (its aws:autoscaling:groupName tag)." }),
    az: z.string().regex(ZONE, { error: "expected an availability zone such as us-east-1a" }).optional().meta({ description: "Only instances in this availability zone." }),
  })
  .strict()
  .refine((s) => s.ids !== undefined || Object.keys(s.filters ?? {}).some((name) => name !== "instance-state-name") || s.asg !== undefined || s.az !== undefined, {
    message: "an ec2 target needs ids, asg, az or a filter other than instance-state-name: chaoscast never picks from every instance of an account",
  });

export type Ec2Selector = z.output<typeof Ec2SelectorSchema>;

/** What an action needs of an instance, kept with its revert. */
export interface InstanceData {
  region: string;
  profile?: string;
  instanceId: string;
  az: string;
  vpcId: string;
}

export const InstanceDataSchema = z.object({
  region: z.string().regex(REGION),
  profile: z.string().max(128).optional(),
  instanceId: z.string().regex(INSTANCE_ID),
  az: z.string().max(64),
  vpcId: z.string().max(64),
});

/** Candidates by default: running instances (a stop or reboot needs one; an instance already down is not a target). */
const LIVE_STATES = ["running"];

export function describeSelector(s: Ec2Selector): string {
  const parts: string[] = [];
  if (s.ids !== undefined) parts.push(`with id ${[s.ids].flat().join(", ")}`);
  for (const [name, values] of Object.entries(s.filters ?? {})) parts.push(`${name}=${[values].flat().join("|")}`);
  if (s.asg) parts.push(`in auto-scaling group ${s.asg}`);
  if (s.az) parts.push(`in ${s.az}`);
  return `EC2 instances ${parts.join(", ")}${s.region ? ` (${s.region})` : ""}`;
}

export type { Instance };

/** The EC2 filters a selector means (its zone is matched on the answers, see describeInstances). */
export function filtersOf(s: Pick<Ec2Selector, "filters" | "asg">): { Name: string; Values: string[] }[] {
  const filters = Object.entries(s.filters ?? {}).map(([Name, values]) => ({ Name, Values: [values].flat() }));
  if (s.asg) filters.push({ Name: "tag:aws:autoscaling:groupName", Values: [s.asg] });
  if (!filters.some((f) => f.Name === "instance-state-name")) filters.push({ Name: "instance-state-name", Values: LIVE_STATES });
  return filters;
}

/** Every instance matching, over all pages. */
export async function describeInstances(ec2: Ec2, s: Pick<Ec2Selector, "ids" | "filters" | "asg" | "az">): Promise<Instance[]> {
  const found: Instance[] = [];
  const ids = s.ids === undefined ? undefined : [s.ids].flat();
  let NextToken: string | undefined;
  do {
    const page = await call(`ec2:DescribeInstances in ${ec2.place.region}`, () =>
      ec2.client.send(new ec2.m.DescribeInstancesCommand({ ...(ids ? { InstanceIds: ids } : { MaxResults: 1000 }), Filters: filtersOf(s), ...(NextToken ? { NextToken } : {}) })),
    );
    // The zone is matched here, on each instance's placement, rather than with EC2's
    // availability-zone filter, which not every EC2-compatible endpoint implements (moto does not).
    for (const reservation of page.Reservations ?? []) found.push(...(reservation.Instances ?? []).filter((i) => s.az === undefined || i.Placement?.AvailabilityZone === s.az));
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

/** An instance's security groups: its primary network interface's (some endpoints list them only there). */
export function groupsOf(instance: Instance): string[] {
  const ids = (groups: { GroupId?: string | undefined }[] | undefined) => (groups ?? []).map((g) => g.GroupId).filter((g): g is string => g !== undefined);
  const primary = instance.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === 0) ?? instance.NetworkInterfaces?.[0];
  const own = ids(instance.SecurityGroups);
  return own.length > 0 ? own : ids(primary?.Groups);
}

export function tagsOf(instance: Instance): Record<string, string> {
  return Object.fromEntries((instance.Tags ?? []).flatMap((t) => (t.Key !== undefined ? [[t.Key, t.Value ?? ""]] : [])));
}

export function instanceLabel(instance: Instance): string {
  const name = tagsOf(instance).Name;
  return `${instance.InstanceId}${name ? ` ${name}` : ""} (${instance.Placement?.AvailabilityZone ?? "?"}, ${instance.State?.Name ?? "?"})`;
}

export function targetOf(instance: Instance, place: Place): Target {
  const data: InstanceData = {
    region: place.region,
    ...(place.profile ? { profile: place.profile } : {}),
    instanceId: instance.InstanceId!,
    az: instance.Placement?.AvailabilityZone ?? "",
    vpcId: instance.VpcId ?? "",
  };
  return { id: `ec2:${place.region}:${instance.InstanceId}`, label: instanceLabel(instance), kind: "ec2", data: { ...data }, labels: tagsOf(instance) };
}

/** The instance data an action was given, refused when it is not an ec2 target's. */
export function instanceOf(action: string, target: Target | null): InstanceData {
  if (target?.kind !== "ec2") throw new AdapterError(`${action} was given no ec2 target`);
  return InstanceDataSchema.parse(target.data) as InstanceData;
}

/** The instance as EC2 sees it now, or undefined when it is gone. */
export async function readInstance(ec2: Ec2, instanceId: string): Promise<Instance | undefined> {
  try {
    const page = await ec2.client.send(new ec2.m.DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return page.Reservations?.[0]?.Instances?.[0];
  } catch (err) {
    if ((err as { name?: string }).name === "InvalidInstanceID.NotFound") return undefined;
    throw err;
  }
}

export const ec2Targets = defineTargets({
  selector: Ec2SelectorSchema,
  describe: describeSelector,
  async resolve(selector) {
    const ec2 = await ec2For(selector.region, selector.profile);
    return (await describeInstances(ec2, selector)).map((i) => targetOf(i, ec2.place));
  },
});
