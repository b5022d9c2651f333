// The ec2 adapter's pieces that moto cannot show: EC2's refusals (moto enforces no IAM), the
// selector's rules, and the policy's permission for what cannot be undone.

import { describe, expect, it } from "vitest";
import { dryRun, explain } from "../../src/adapters/ec2/connection.js";
import { Ec2SelectorSchema } from "../../src/adapters/ec2/targets.js";
import { checkStatic, mergePolicies, type PolicyKey, type PolicyLimits } from "../../src/policy/rules.js";

const awsError = (name: string, message = "") => Object.assign(new Error(message || name), { name, Code: name });

describe("EC2's own dry run", () => {
  it("passes on DryRunOperation and names the missing permission on UnauthorizedOperation", async () => {
    await expect(dryRun("ec2:StopInstances on i-0abc12345", () => Promise.reject(awsError("DryRunOperation")))).resolves.toBeUndefined();
    await expect(dryRun("ec2:StopInstances on i-0abc12345", () => Promise.reject(awsError("UnauthorizedOperation", "You are not authorized")))).rejects.toThrow(
      /^not allowed: ec2:StopInstances on i-0abc12345 \(checked with DryRun\) \(UnauthorizedOperation\); grant that action/,
    );
  });

  it("refuses to pass when an endpoint ignored DryRun, since the change may have been made", async () => {
    await expect(dryRun("ec2:StopInstances on i-0abc12345", () => Promise.resolve({}))).rejects.toThrow(/did not honour DryRun/);
  });

  it("says where credentials were looked for, and never quotes them", () => {
    const message = explain("ec2:DescribeInstances", awsError("CredentialsProviderError", "Could not load credentials from any providers")).message;
    expect(message).toMatch(/no AWS credentials for ec2:DescribeInstances: looked in the environment, the shared config and credentials files \(profile\), SSO and the instance metadata service/);
  });
});

describe("the ec2 selector", () => {
  it("needs ids, filters, asg or az: never every instance of an account", () => {
    expect(Ec2SelectorSchema.safeParse({ region: "us-east-1" }).success).toBe(false);
    expect(Ec2SelectorSchema.safeParse({ region: "us-east-1", filters: { "tag:role": "vod-origin" } }).success).toBe(true);
    expect(Ec2SelectorSchema.safeParse({ ids: "i-zzz" }).success).toBe(false);
    expect(Ec2SelectorSchema.safeParse({ az: "us-east-1" }).success).toBe(false);
    expect(Ec2SelectorSchema.safeParse({ az: "us-east-1a", region: "moon-1" }).success).toBe(false);
    expect(Ec2SelectorSchema.safeParse({ filters: {} }).success).toBe(false);
    expect(Ec2SelectorSchema.safeParse({ filters: { "instance-state-name": "running" } }).success).toBe(false);
  });
});

describe("allowTerminate", () => {
  const policy = (...files: PolicyLimits[]) => mergePolicies(files.map((limits, i) => ({ limits, source: (key: PolicyKey) => `file${i}: ${key}` })));
  const facts = { methodMs: 1000, hasWindows: false, percents: [], permissions: [{ fault: "kill it", action: "ec2.terminate", permission: "allowTerminate" as const }] };

  it("refuses an irreversible action unless a policy file allows it, and a false in any file wins", () => {
    expect(checkStatic(facts, policy())[0]!.message).toMatch(/fault "kill it" uses ec2\.terminate, which CANNOT BE UNDONE; .*no policy file \(\.chaoscast\.yaml\) allows it/);
    expect(checkStatic(facts, policy({ allowTerminate: true }))).toEqual([]);
    expect(checkStatic(facts, policy({ allowTerminate: true }, { allowTerminate: false }))).toHaveLength(1);
    expect(checkStatic(facts, policy({ allowTerminate: false }, { allowTerminate: true }))).toHaveLength(1);
  });
});

describe("a record's lease", () => {
  it("dated more than a lease in the future counts as expired, so a forged one cannot hold a fault forever", async () => {
    const { recordState } = await import("../../src/engine/recorded.js");
    const record = { runId: "r", where: "w", fault: "f", action: "a", target: null, revert: { kind: "k", data: {}, description: "d" }, owner: { pid: 1, startTime: null, host: "elsewhere" }, leaseMs: 60_000, forget: async () => {} };
    const now = Date.parse("2026-12-06T12:00:00Z");
    expect(await recordState({ ...record, renewedAt: "2099-01-01T00:00:00Z" }, now)).toMatchObject({ state: "abandoned", why: expect.stringMatching(/in the future/) });
    expect(await recordState({ ...record, renewedAt: "2026-12-06T12:00:05Z" }, now)).toMatchObject({ state: "held" });
    expect(await recordState({ ...record, renewedAt: "2026-12-06T11:58:00Z" }, now)).toMatchObject({ state: "abandoned" });
  });
});
