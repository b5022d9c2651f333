import { describe, expect, it } from "vitest";
import { checkResolved, checkStatic, combineViolations, mergePolicies, type PolicyLimits } from "../../src/policy/rules.js";
import { isExcluded } from "../../src/contract/exclusion.js";

const from = (file: string, limits: PolicyLimits) => ({ limits, source: (key: string) => `${file}:${key}` });

describe("the blast-radius policy", () => {
  it("keeps the strictest of each limit across policy files", () => {
    const policy = mergePolicies([from("repo", { maxPercent: 25, maxTargets: 3, maxDuration: 600_000 }), from("home", { maxPercent: 10, maxTargets: 5 })]);
    expect(policy.maxPercent).toEqual({ value: 10, source: "home:maxPercent" });
    expect(policy.maxTargets).toEqual({ value: 3, source: "repo:maxTargets" });
    expect(policy.maxDuration?.value).toBe(600_000);
  });

  it("refuses a selection of 25% under maxPercent 10, naming both numbers and where the limit is set", () => {
    const policy = mergePolicies([from(".chaoscast.yaml", { maxPercent: 10 })]);
    const [violation] = checkStatic({ methodMs: 1000, hasWindows: false, percents: [{ target: "edges", percent: 25 }] }, policy);
    expect(violation?.message).toBe('target "edges" selects 25% of its candidates, over the policy\'s maxPercent of 10% (.chaoscast.yaml:maxPercent)');
  });

  it("judges the share actually chosen once targets are resolved, and reports a percentage once", () => {
    const policy = mergePolicies([from("p", { maxPercent: 10 })]);
    const chosen = [{ id: "a", label: "a" }];
    expect(checkResolved([{ name: "edges", candidates: 10, chosen }], policy)).toEqual([]);
    const resolved = checkResolved([{ name: "edges", candidates: 4, chosen }], policy);
    expect(resolved[0]?.message).toContain("would hit 1 of 4 candidates (25%)");
    const statics = checkStatic({ methodMs: 1, hasWindows: false, percents: [{ target: "edges", percent: 25 }] }, policy);
    expect(combineViolations(statics, resolved)).toHaveLength(1);
  });

  it("limits the targets of a whole run, the method length and requires a window when asked", () => {
    const policy = mergePolicies([from("p", { maxTargets: 2, maxDuration: 60_000, requireWindow: true })]);
    const blocks = [
      { name: "a", candidates: 2, chosen: [{ id: "1", label: "1" }, { id: "2", label: "2" }] },
      { name: "b", candidates: 1, chosen: [{ id: "3", label: "3" }] },
    ];
    expect(checkResolved(blocks, policy).map((v) => v.limit)).toEqual(["maxTargets"]);
    expect(checkStatic({ methodMs: 120_000, hasWindows: false, percents: [] }, policy).map((v) => v.limit)).toEqual(["maxDuration", "requireWindow"]);
    expect(checkStatic({ methodMs: 60_000, hasWindows: true, percents: [] }, policy)).toEqual([]);
  });

  it("allows a namespace or context only when every policy file's list allows it", () => {
    const policy = mergePolicies([from("repo", { allowNamespaces: ["video-*", "dev"] }), from("home", { allowNamespaces: ["video-staging"] })]);
    const target = (namespace: string) => [{ name: "pods", candidates: 10, chosen: [{ id: namespace, label: `pod in ${namespace}`, namespace }] }];
    expect(checkResolved(target("video-staging"), policy)).toEqual([]);
    expect(checkResolved(target("video-prod"), policy)[0]?.message).toMatch(/namespace "video-prod", which the policy's allowNamespaces \(video-staging\) does not allow \(home:allowNamespaces\)/);
    expect(checkResolved(target("dev"), policy)).toHaveLength(1);
    // Targets without a namespace (local processes) are not judged by it.
    expect(checkResolved([{ name: "p", candidates: 1, chosen: [{ id: "x", label: "x" }] }], mergePolicies([from("p", { allowNamespaces: ["x"] })]))).toEqual([]);
  });

  it("recognises the exclusion label", () => {
    expect(isExcluded({ labels: { "chaoscast.io/exclude": "true" } })).toBe(true);
    expect(isExcluded({ labels: { "chaoscast.io/exclude": "TRUE" } })).toBe(true);
    expect(isExcluded({ labels: { "chaoscast.io/exclude": "false" } })).toBe(false);
    expect(isExcluded({})).toBe(false);
  });
});

describe("maxSurgeViewers", () => {
  it("caps the synthetic viewers of all a run's faults together, the strictest file winning", () => {
    const policy = mergePolicies([from("repo", { maxSurgeViewers: 2000 }), from("home", { maxSurgeViewers: 1000 })]);
    expect(policy.maxSurgeViewers).toEqual({ value: 1000, source: expect.stringContaining("home") });
    const crowds = [
      { fault: "finale", viewers: 800 },
      { fault: "replay", viewers: 400 },
    ];
    const [violation, ...rest] = checkStatic({ methodMs: 1000, hasWindows: false, percents: [], crowds }, policy);
    expect(rest).toEqual([]);
    expect(violation).toMatchObject({ limit: "maxSurgeViewers", message: expect.stringMatching(/send 1200 synthetic viewers \("finale" 800, "replay" 400\), more than the policy's maxSurgeViewers of 1000/) });
    expect(checkStatic({ methodMs: 1000, hasWindows: false, percents: [], crowds: crowds.slice(0, 1) }, policy)).toEqual([]);
  });
});
