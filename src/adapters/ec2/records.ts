// Faults recorded on the instances themselves, besides the local state file: before chaoscast
// changes an instance it tags it with the run id, what to restore and who did it, and renews a lease
// tag while the fault is held. `chaoscast rollback --region R` from any machine lists the tagged
// instances of that region and undoes what a dead run left; each revert removes the tags.
//
// EC2 tag values hold at most 256 characters, so the record is spread over a few tags, each small.

import { z } from "zod";
import { RunIdSchema } from "../../contract/common-schemas.js";
import type { FaultRecords, RecordedFault, RunContext } from "../../contract/adapter.js";
import { currentOwner } from "../../util/process-owner.js";
import { AdapterError } from "../../errors.js";
import { call, ec2For, type Ec2 } from "./connection.js";
import { describeInstances, tagsOf } from "./targets.js";

export const TAG = {
  run: "chaoscast.io/run",
  fault: "chaoscast.io/fault",
  restore: "chaoscast.io/restore",
  owner: "chaoscast.io/owner",
  renewedAt: "chaoscast.io/renewed-at",
} as const;

const LEASE_MS = 60_000;
const MAX_TAG_VALUE = 256;

/** What to restore, as the restore tag holds it. */
export const RestoreSchema = z.discriminatedUnion("k", [
  z.object({ k: z.literal("start") }),
  z.object({ k: z.literal("groups"), g: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/)).min(1).max(16), n: z.string().max(255), v: z.string().max(64) }),
]);
export type Restore = z.output<typeof RestoreSchema>;

const OwnerSchema = z.object({ p: z.int(), s: z.string().max(40).nullable(), h: z.string().max(200) });

/** Tag the instance with the run's record, before it is changed. Returns the lease's stop. */
export async function writeRecordTags(ec2: Ec2, instanceId: string, record: { runId: string; fault: string; restore: Restore }, ctx: RunContext): Promise<() => Promise<void>> {
  const owner = await currentOwner();
  const values: Record<string, string> = {
    [TAG.run]: record.runId,
    [TAG.fault]: record.fault.slice(0, MAX_TAG_VALUE),
    [TAG.restore]: JSON.stringify(record.restore),
    [TAG.owner]: JSON.stringify({ p: owner.pid, s: owner.startTime, h: owner.host.slice(0, 200) }),
    [TAG.renewedAt]: new Date().toISOString(),
  };
  for (const [key, value] of Object.entries(values)) {
    if (value.length > MAX_TAG_VALUE) throw new AdapterError(`${instanceId}: the record of this fault does not fit in an EC2 tag (${key} needs ${value.length} characters, at most ${MAX_TAG_VALUE}); nothing was changed`);
  }
  await putTags(ec2, instanceId, values);
  let stopped = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = putTags(ec2, instanceId, { [TAG.renewedAt]: new Date().toISOString() }).catch((err: unknown) => {
      // A missed renewal only shortens the lease; the next one (or the revert) follows.
      if (!stopped) ctx.note(`could not renew the record on ${instanceId}: ${(err as Error).message}`);
    });
  }, LEASE_MS / 3);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await inFlight;
  };
}

async function putTags(ec2: Ec2, instanceId: string, values: Record<string, string>): Promise<void> {
  await call(`ec2:CreateTags on ${instanceId}`, () => ec2.client.send(new ec2.m.CreateTagsCommand({ Resources: [instanceId], Tags: Object.entries(values).map(([Key, Value]) => ({ Key, Value })) })));
}

/** Remove the run's record from the instance (after its revert), unless another run's record replaced it. */
export async function removeRecordTags(ec2: Ec2, instanceId: string, runId: string, current: Record<string, string> | undefined): Promise<void> {
  if (current && current[TAG.run] !== undefined && current[TAG.run] !== runId) return;
  await call(`ec2:DeleteTags on ${instanceId}`, () => ec2.client.send(new ec2.m.DeleteTagsCommand({ Resources: [instanceId], Tags: Object.values(TAG).map((Key) => ({ Key })) })));
}

/** The revert a record's restore tag means, as data of the adapter's own revert kinds. */
function revertOf(restore: Restore, base: { region: string; instanceId: string; runId: string }): RecordedFault["revert"] {
  if (restore.k === "start") return { kind: "ec2.start", data: { ...base }, description: `start ${base.instanceId} and wait until it runs` };
  return { kind: "ec2.restore-groups", data: { ...base, groups: restore.g, isolationGroup: restore.n, vpcId: restore.v }, description: `give ${base.instanceId} back its security groups ${restore.g.join(", ")}` };
}

export const ec2Records: FaultRecords = {
  scope: "region",
  async find(region) {
    const ec2 = await ec2For(region, undefined);
    const instances = await describeInstances(ec2, { filters: { "tag-key": TAG.run, "instance-state-name": ["pending", "running", "stopping", "stopped", "shutting-down"] } });
    const records: RecordedFault[] = [];
    const unreadable: { where: string; problem: string }[] = [];
    for (const instance of instances) {
      const tags = tagsOf(instance);
      const instanceId = instance.InstanceId!;
      const where = `tags of ${instanceId} (${ec2.place.region})`;
      // Tags are data anyone with ec2:CreateTags can write: each is checked before it is believed.
      const runId = RunIdSchema.safeParse(tags[TAG.run]);
      const restore = parseJson(RestoreSchema, tags[TAG.restore]);
      const owner = parseJson(OwnerSchema, tags[TAG.owner]);
      if (!runId.success || !restore || !owner) {
        unreadable.push({ where, problem: "its chaoscast.io/* tags are incomplete or not chaoscast's" });
        continue;
      }
      const target = { id: `ec2:${ec2.place.region}:${instanceId}`, label: `${instanceId} (${instance.Placement?.AvailabilityZone ?? "?"})` };
      records.push({
        runId: runId.data,
        where,
        fault: tags[TAG.fault] ?? "",
        action: restore.k === "start" ? "ec2.stop" : "ec2.isolate",
        target,
        revert: revertOf(restore, { region: ec2.place.region, instanceId, runId: runId.data }),
        owner: { pid: owner.p, startTime: owner.s, host: owner.h },
        renewedAt: tags[TAG.renewedAt] ?? "",
        leaseMs: LEASE_MS,
        forget: () => removeRecordTags(ec2, instanceId, runId.data, undefined),
      });
    }
    return { records, unreadable };
  },
};

function parseJson<T extends z.ZodType>(schema: T, text: string | undefined): z.output<T> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
