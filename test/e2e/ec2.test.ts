// The EC2 adapter end to end: the CLI against moto_server (an AWS emulator on 127.0.0.1) through the
// real AWS SDK, as the "done when" says: four vod-origin instances, one excluded; a stop of
// exactly one that runs again afterwards; a terminate refused without the policy's permission; a
// run killed with SIGKILL mid-stop undone by `chaoscast rollback`, also from another state directory
// through the instance's tags.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CreateSecurityGroupCommand, CreateTagsCommand, DeleteTagsCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client, RunInstancesCommand, StopInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { motoAvailable, startMoto, type Moto } from "../helpers/moto.js";
import { pollUntil, ROOT, runCli, startServer, waitForOutput, workdir, writeExperiment } from "../helpers/processes.js";

const available = await motoAvailable();

let moto: Moto;
let ec2: EC2Client;

beforeAll(async () => {
  if (!available) return;
  moto = await startMoto();
  ec2 = new EC2Client({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: "testing", secretAccessKey: "testing" } });
});
afterAll(async () => {
  await moto?.stop();
});

/** Four instances tagged role=<role> in one zone, the last also chaoscast.io/exclude=true. */
async function fleet(role: string, zone = "us-east-1a"): Promise<{ ids: string[]; excluded: string }> {
  // As in AWS, every instance is in a VPC security group of its own.
  const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `web-${role}-${zone}`, Description: "the fleet's group" }));
  const made = await ec2.send(
    new RunInstancesCommand({ ImageId: "ami-12c6146b", MinCount: 4, MaxCount: 4, InstanceType: "t3.micro", SecurityGroupIds: [group.GroupId!], Placement: { AvailabilityZone: zone }, TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "role", Value: role }] }] }),
  );
  const ids = made.Instances!.map((i) => i.InstanceId!);
  await ec2.send(new CreateTagsCommand({ Resources: [ids[3]!], Tags: [{ Key: "chaoscast.io/exclude", Value: "true" }] }));
  return { ids, excluded: ids[3]! };
}

async function states(ids: string[]): Promise<Record<string, string>> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  return Object.fromEntries(out.Reservations!.flatMap((r) => r.Instances!).map((i) => [i.InstanceId!, i.State!.Name!]));
}

async function tagsOf(id: string): Promise<Record<string, string>> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return Object.fromEntries((out.Reservations![0]!.Instances![0]!.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

const stopExperiment = (role: string, duration = "3s") => `version: 1
title: One ${role} stopped
duration: ${duration}
targets:
  origins:
    ec2: { region: us-east-1, filters: { "tag:role": ${role} } }
    select: { count: 1 }
steadyState:
  - name: most origins run
    probe: ec2
    with: { instances: { region: us-east-1, filters: { "tag:role": ${role} } } }
    expect: { running: ">= 2" }
abort: { interval: 500ms, after: 3 }
recovery: { timeout: 30s, interval: 500ms }
faults:
  - { name: stop one origin, target: origins, action: ec2.stop }
`;

describe.skipIf(!available)("the ec2 adapter against moto", () => {
  it("stops exactly one non-excluded instance during the run, and it runs again afterwards", async () => {
    const dir = workdir();
    const { ids, excluded } = await fleet("vod-origin-a");
    const file = writeExperiment(dir, "stop.yaml", stopExperiment("vod-origin-a"));
    const child = runCli(["run", "--yes", "--output", "jsonl", file], { cwd: dir, env: moto.env });
    const seen: Record<string, string>[] = [];
    let injected = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes('"type":"fault-injected"')) injected = true;
    });
    await pollUntil(() => injected, 30_000, "the stop injected");
    seen.push(await states(ids));
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    const during = seen[0]!;
    const stopped = Object.entries(during).filter(([, s]) => s === "stopped" || s === "stopping");
    expect(stopped).toHaveLength(1);
    expect(stopped[0]![0]).not.toBe(excluded);
    expect(Object.values(await states(ids)).every((s) => s === "running")).toBe(true);
    // The record tags went with the revert.
    expect(Object.keys(await tagsOf(stopped[0]![0])).filter((k) => k.startsWith("chaoscast.io/") && k !== "chaoscast.io/exclude")).toEqual([]);
    const events = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; chosen?: { id: string }[]; excluded?: { id: string }[] });
    const resolved = events.find((e) => e.type === "targets-resolved")!;
    expect(resolved.excluded!.map((t) => t.id)).toEqual([`ec2:us-east-1:${excluded}`]);
  });

  it("refuses ec2.terminate (exit 4) without allowTerminate in the policy, and terminates nothing", async () => {
    const dir = workdir();
    const { ids } = await fleet("vod-origin-b");
    const file = writeExperiment(dir, "terminate.yaml", stopExperiment("vod-origin-b").replace("action: ec2.stop", "action: ec2.terminate"));
    const refused = await runCli(["run", "--yes", file], { cwd: dir, env: moto.env });
    expect(refused.exitCode, refused.all).toBe(4);
    expect(refused.all).toMatch(/uses ec2\.terminate, which CANNOT BE UNDONE; it runs only where the blast-radius policy says allowTerminate: true/);
    expect(Object.values(await states(ids)).every((s) => s === "running")).toBe(true);
    // plan says so too, and so loudly.
    const plan = await runCli(["plan", file], { cwd: dir, env: moto.env });
    expect(plan.exitCode).toBe(4);
    // With the permission, it runs, and the journal says it cannot be undone.
    writeFileSync(path.join(dir, ".chaoscast.yaml"), "policy:\n  allowTerminate: true\n");
    const allowed = await runCli(["run", "--yes", file], { cwd: dir, env: moto.env });
    expect(allowed.all).toMatch(/cannot be reverted/);
    expect(Object.values(await states(ids)).filter((s) => s === "terminated" || s === "shutting-down")).toHaveLength(1);
  });

  it("undoes a run killed with SIGKILL mid-stop: from the state file, and from the tags on another machine", async () => {
    for (const via of ["state file", "tags"] as const) {
      const dir = workdir();
      const { ids } = await fleet(`vod-origin-k-${via === "tags" ? "t" : "s"}`);
      const file = writeExperiment(dir, "long.yaml", stopExperiment(`vod-origin-k-${via === "tags" ? "t" : "s"}`, "5m"));
      // No watchdog: the point is what is left when nothing at all is there to roll back.
      const child = runCli(["run", "--yes", "--watchdog", "off", file], { cwd: dir, env: moto.env });
      await waitForOutput(child, "injected stop one origin", 60_000);
      child.kill("SIGKILL");
      await child;
      const stopped = Object.entries(await states(ids)).filter(([, s]) => s !== "running");
      expect(stopped).toHaveLength(1);
      const id = stopped[0]![0];
      expect(await tagsOf(id)).toMatchObject({ "chaoscast.io/restore": '{"k":"start"}' });
      const args = via === "tags" ? ["rollback", "--region", "us-east-1"] : ["rollback"];
      // From the tags: a state directory that knows nothing of the run.
      const cwd = via === "tags" ? workdir() : dir;
      const undone = await runCli(args, { cwd, env: moto.env });
      expect(undone.exitCode, undone.all).toBe(0);
      expect(Object.values(await states(ids)).every((s) => s === "running")).toBe(true);
      expect(Object.keys(await tagsOf(id)).filter((k) => k.startsWith("chaoscast.io/") && k !== "chaoscast.io/exclude")).toEqual([]);
    }
  });

  it("halt --region from another machine undoes a live run's stop at once, and the run's own rollback then finds nothing to do", async () => {
    const dir = workdir();
    const { ids } = await fleet("vod-origin-halt");
    const file = writeExperiment(dir, "long.yaml", stopExperiment("vod-origin-halt", "5m"));
    const child = runCli(["run", "--yes", file], { cwd: dir, env: moto.env });
    await waitForOutput(child, "injected stop one origin", 60_000);
    const stopped = Object.entries(await states(ids)).filter(([, s]) => s !== "running");
    expect(stopped).toHaveLength(1);
    const id = stopped[0]![0];
    // Another state directory (another machine): it knows nothing of the run but what the tags say.
    const elsewhere = workdir();
    const halt = await runCli(["halt", "--reason", "incident", "--region", "us-east-1"], { cwd: elsewhere, env: moto.env });
    expect(halt.exitCode, halt.all).toBe(0);
    expect(halt.stdout).toMatch(/Halting .*reverting it all the same/);
    expect((await states([id]))[id]).toBe("running");
    expect(Object.keys(await tagsOf(id)).filter((k) => k.startsWith("chaoscast.io/") && k !== "chaoscast.io/exclude")).toEqual([]);
    // The run itself, unaware, is stopped here; undoing what is already undone is harmless.
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode, result.all).toBe(2);
    expect(Object.values(await states(ids)).every((s) => s === "running")).toBe(true);
    await runCli(["halt", "--clear"], { cwd: elsewhere });
  });

  it("isolates an instance in a deny-all group and gives it its groups back", async () => {
    const dir = workdir();
    const { ids } = await fleet("vod-origin-i");
    const before = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]!] }));
    const groups = before.Reservations![0]!.Instances![0]!.SecurityGroups!.map((g) => g.GroupId);
    const file = writeExperiment(dir, "isolate.yaml", stopExperiment("vod-origin-i").replace('filters: { "tag:role": vod-origin-i } }\n    select: { count: 1 }', `ids: ${ids[0]} }`).replace("action: ec2.stop", "action: ec2.isolate"));
    const child = runCli(["run", "--yes", file], { cwd: dir, env: moto.env });
    await waitForOutput(child, "injected stop one origin", 60_000);
    expect(groups).toHaveLength(1);
    const during = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]!] }));
    const isolatedIn = during.Reservations![0]!.Instances![0]!.SecurityGroups!.map((g) => g.GroupName);
    expect(isolatedIn).toHaveLength(1);
    expect(isolatedIn[0]).toMatch(/^chaoscast-isolate-/);
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    const after = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]!] }));
    expect(after.Reservations![0]!.Instances![0]!.SecurityGroups!.map((g) => g.GroupId)).toEqual(groups);
    // chaoscast's deny-all group is gone too.
    const left = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: [isolatedIn[0]!] }] }));
    expect(left.SecurityGroups ?? []).toEqual([]);
  });

  it("an AZ outage stops every chosen instance of the zone and refuses one outside it", async () => {
    const dir = workdir();
    const { ids } = await fleet("vod-origin-z", "us-east-1b");
    const experiment = `version: 1
title: Zone b goes dark
duration: 2s
targets:
  zone:
    ec2: { region: us-east-1, az: us-east-1b, filters: { "tag:role": vod-origin-z } }
faults:
  - { name: lose us-east-1b, target: zone, action: ec2.az-outage, with: { zone: us-east-1b } }
recovery: { timeout: 30s }
`;
    const file = writeExperiment(dir, "az.yaml", experiment);
    const child = runCli(["run", "--yes", file], { cwd: dir, env: moto.env });
    await waitForOutput(child, "injected lose us-east-1b", 60_000);
    await pollUntil(async () => Object.values(await states(ids.slice(0, 3))).every((s) => s !== "running"), 30_000, "all three stopped");
    expect((await states([ids[3]!]))[ids[3]!]).toBe("running");
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/availability zone us-east-1b outage \(stop\)/);
    expect(Object.values(await states(ids)).every((s) => s === "running")).toBe(true);
    // The wrong zone is refused in preflight, before anything is stopped.
    const wrong = writeExperiment(dir, "wrong.yaml", experiment.replace("with: { zone: us-east-1b }", "with: { zone: us-east-1c }"));
    const refused = await runCli(["run", "--yes", wrong], { cwd: dir, env: moto.env });
    expect(refused.exitCode, refused.all).toBe(5);
    expect(refused.all).toMatch(/is in us-east-1b; add az: us-east-1c to the target/);
    expect(Object.values(await states(ids)).every((s) => s === "running")).toBe(true);
  });

  it("runs the shipped AZ drill: zone a goes dark, the origins of zone b hold, and zone a runs again", async () => {
    const dir = workdir();
    const playback = await startServer();
    try {
      const a = await fleet("vod-origin-dr", "us-east-1a");
      const b = await fleet("vod-origin-dr", "us-east-1b");
      const file = path.join(ROOT, "experiments/aws/02-az-outage-failover.yaml");
      const vars = ["--var", "role=vod-origin-dr", "--var", `playback_url=${playback.url}/health`, "--var", "duration=4s", "--var", "zone=us-east-1a"];
      const plan = await runCli(["plan", file, ...vars], { cwd: dir, env: moto.env });
      expect(plan.exitCode, plan.all).toBe(0);
      const result = await runCli(["run", "--yes", "--output", "jsonl", file, ...vars], { cwd: dir, env: moto.env });
      expect(result.exitCode, result.all).toBe(0);
      const events = result.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; message?: string; target?: { id: string } });
      const stopped = events.filter((e) => e.type === "fault-injected").map((e) => e.target!.id.split(":")[2]);
      expect(stopped.sort()).toEqual(a.ids.slice(0, 3).sort());
      expect(events.some((e) => e.type === "note" && /availability zone us-east-1a outage \(stop\)/.test(e.message ?? ""))).toBe(true);
      expect(Object.values(await states([...a.ids, ...b.ids])).every((st) => st === "running")).toBe(true);
    } finally {
      await playback.stop();
    }
  });

  it("rollback --region leaves alone forged tags that name a group that is not chaoscast's own", async () => {
    const { ids } = await fleet("vod-origin-f");
    const victim = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "prod-db-firewall", Description: "not chaoscast's" }));
    const before = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]!] }));
    const groups = before.Reservations![0]!.Instances![0]!.SecurityGroups!.map((g) => g.GroupId);
    const forged = {
      "chaoscast.io/run": "20261206T000000Z-evil-0000",
      "chaoscast.io/fault": "ec2.isolate on it",
      "chaoscast.io/owner": JSON.stringify({ p: 1, s: "1", h: "otherhost" }),
      "chaoscast.io/renewed-at": "2020-01-01T00:00:00Z",
      "chaoscast.io/restore": JSON.stringify({ k: "groups", g: [victim.GroupId], n: "prod-db-firewall", v: "" }),
    };
    await ec2.send(new CreateTagsCommand({ Resources: [ids[0]!], Tags: Object.entries(forged).map(([Key, Value]) => ({ Key, Value })) }));
    const result = await runCli(["rollback", "--region", "us-east-1"], { cwd: workdir(), env: moto.env });
    expect(result.exitCode, result.all).toBe(3);
    expect(result.all).toMatch(/left alone/);
    const after = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[0]!] }));
    expect(after.Reservations![0]!.Instances![0]!.SecurityGroups!.map((g) => g.GroupId)).toEqual(groups);
    const still = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [victim.GroupId!] }));
    expect(still.SecurityGroups).toHaveLength(1);
    // The forged record would make every later rollback --region of this moto exit 3.
    await ec2.send(new DeleteTagsCommand({ Resources: [ids[0]!], Tags: Object.keys(forged).map((Key) => ({ Key })) }));
  });

  it("a state file left behind does not restart an instance someone stopped after rollback --region undid the run", async () => {
    const dir = workdir();
    const { ids } = await fleet("vod-origin-s2");
    const file = writeExperiment(dir, "long.yaml", stopExperiment("vod-origin-s2", "5m"));
    const child = runCli(["run", "--yes", "--watchdog", "off", file], { cwd: dir, env: moto.env });
    await waitForOutput(child, "injected stop one origin", 60_000);
    child.kill("SIGKILL");
    await child;
    const id = Object.entries(await states(ids)).find(([, st]) => st !== "running")![0];
    expect((await runCli(["rollback", "--region", "us-east-1"], { cwd: workdir(), env: moto.env })).exitCode).toBe(0);
    // The operator stops it on purpose; the run's own state file, still there, must not undo that.
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const local = await runCli(["rollback"], { cwd: dir, env: moto.env });
    expect(local.exitCode, local.all).toBe(0);
    expect(local.all).toMatch(/its stop was undone already; left stopped/);
    expect((await states([id]))[id]).toBe("stopped");
  });

  it("never prints or journals the credentials", async () => {
    const dir = workdir();
    await fleet("vod-origin-c");
    const file = writeExperiment(dir, "c.yaml", stopExperiment("vod-origin-c", "1s"));
    const secret = "SECRETKEYchaoscast0123456789abcdefXYZ";
    const result = await runCli(["run", "--yes", "--output", "jsonl", file], { cwd: dir, env: { ...moto.env, AWS_SECRET_ACCESS_KEY: secret } });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).not.toContain(secret);
    expect(result.all).not.toContain("testing");
  });
});

// Keep the fixture from leaking terminate calls into later files when a test fails half-way.
afterAll(async () => {
  if (!available) return;
  const all = await ec2.send(new DescribeInstancesCommand({}));
  const ids = all.Reservations!.flatMap((r) => r.Instances!).map((i) => i.InstanceId!);
  if (ids.length) await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })).catch(() => {});
});
