// The blast-radius policy (.chaoscast.yaml) and its checks, pure functions of the experiment, the
// resolved targets and the clock. Limits are upper bounds set by whoever owns the environment; an
// experiment can stay under them but never raise them.

import picomatch from "picomatch";
import { z } from "zod";
import { DurationSchema, PercentSchema } from "../contract/common-schemas.js";
import { formatDuration } from "../contract/duration.js";


/**
 * A guard: something outside the experiment that says "no chaos now". Checked before a run starts
 * and all through its method; when it trips, the run aborts and rolls back as on a breach.
 */
const GuardTimeout = DurationSchema.refine((ms) => ms >= 100 && ms <= 60_000, { message: "expected a timeout from 100ms to 60s" });

export const GuardSchema = z.union([
  z
    .object({
      file: z
        .string()
        .min(1)
        .max(4096)
        .refine((p) => p.startsWith("/"), { message: "expected an absolute path: a relative one would mean another file from each working directory" })
        .meta({ description: "Trips while this file exists (a halt switch anyone on the host can throw); an absolute path." }),
    })
    .strict(),
  z
    .object({
      http: z
        .object({
          url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).meta({ description: "Chaos is allowed while this URL answers 2xx; any other answer, or none, trips the guard." }),
          timeout: GuardTimeout.prefault("2s"),
        })
        .strict(),
    })
    .strict(),
  z
    .object({
      prometheus: z
        .object({
          url: z.url({ protocol: /^https?$/, error: "expected the http(s) URL of a Prometheus-compatible API" }),
          alert: z.string().min(1).max(200).regex(/^[A-Za-z_:][A-Za-z0-9_:]*$/, { message: "expected an alert name (letters, digits, _ and :)" }).meta({ description: "Trips while an alert of this name is firing (ALERTS{alertstate=\"firing\"}); an unreachable Prometheus trips it too." }),
          timeout: GuardTimeout.prefault("5s"),
        })
        .strict(),
    })
    .strict(),
]);
export type GuardSpec = z.output<typeof GuardSchema>;

export const PolicySchema = z
  .object({
    maxTargets: z.int().min(1).optional().meta({ description: "Most targets one run may hit, over all its target blocks." }),
    maxPercent: PercentSchema.refine((p) => p > 0, { message: "maxPercent must be more than 0" })
      .optional()
      .meta({ description: 'Largest share of a target block\'s candidates a run may hit: 10 or "10%". A block of one candidate is 100%.' }),
    allowContexts: z.array(z.string().min(1)).optional().meta({ description: "Kubernetes contexts (globs) a run may touch." }),
    allowNamespaces: z.array(z.string().min(1)).optional().meta({ description: "Namespaces (globs) a run may touch." }),
    maxDuration: DurationSchema.optional().meta({ description: "Longest method a run may have." }),
    requireWindow: z.boolean().optional().meta({ description: "Runs only inside the experiment's schedule windows (an experiment without one is refused)." }),
    guards: z
      .array(GuardSchema)
      .max(20)
      .optional()
      .meta({ description: "Halt switches checked before and during every run: a file, an HTTP URL that must answer 2xx, a Prometheus alert that must not fire. Guards of every policy file apply." }),
    maxSurgeViewers: z
      .int()
      .min(1)
      .optional()
      .meta({ description: "Most synthetic viewers the faults of one run may send (viewers.surge's `to`, summed over the run's faults)." }),
    allowTerminate: z
      .boolean()
      .optional()
      .meta({ description: "Lets experiments use actions that cannot be undone, such as ec2.terminate (refused otherwise). A false in any policy file wins." }),
  })
  .strict();

export const PolicyFileSchema = z.object({ policy: PolicySchema.optional() }).strict();

export type PolicyLimits = z.output<typeof PolicySchema>;
export type PolicyKey = keyof PolicyLimits;

/** One limit in force, and where it was set (so a refusal can say which file to look at). */
export interface Rule<T> {
  value: T;
  source: string;
}

/** The limits in force: the strictest of every policy file found. */
export interface Policy {
  maxTargets?: Rule<number>;
  maxPercent?: Rule<number>;
  maxDuration?: Rule<number>;
  maxSurgeViewers?: Rule<number>;
  requireWindow?: Rule<true>;
  /** Irreversible actions (ec2.terminate) allowed: true only if some file says so and none says false. */
  allowTerminate?: Rule<boolean>;
  /** Every policy file's guards: any one tripping stops a run. */
  guards?: Rule<GuardSpec>[];
  /** One list per policy file that sets it: a name must be allowed by each. */
  allowContexts?: Rule<string[]>[];
  allowNamespaces?: Rule<string[]>[];
}

export const NO_POLICY: Policy = {};

/** Combine policy files so that each limit is the strictest given: no file can loosen another. */
export function mergePolicies(parts: { limits: PolicyLimits; source: (key: PolicyKey) => string }[]): Policy {
  const merged: Policy = {};
  for (const { limits, source } of parts) {
    for (const key of ["maxTargets", "maxPercent", "maxDuration", "maxSurgeViewers"] as const) {
      const value = limits[key];
      const current = merged[key];
      if (value !== undefined && (!current || value < current.value)) merged[key] = { value, source: source(key) };
    }
    for (const key of ["allowContexts", "allowNamespaces"] as const) {
      const value = limits[key];
      if (value !== undefined) merged[key] = [...(merged[key] ?? []), { value, source: source(key) }];
    }
    if (limits.requireWindow === true) merged.requireWindow = { value: true, source: source("requireWindow") };
    for (const guard of limits.guards ?? []) merged.guards = [...(merged.guards ?? []), { value: guard, source: source("guards") }];
    // A permission: any file may refuse it, and no file can lift another's refusal.
    if (limits.allowTerminate !== undefined && merged.allowTerminate?.value !== false) merged.allowTerminate = { value: limits.allowTerminate, source: source("allowTerminate") };
  }
  return merged;
}

function allowedByAll(rules: readonly Rule<string[]>[], name: string): Rule<string[]> | undefined {
  return rules.find((rule) => !rule.value.some((glob) => picomatch.isMatch(name, glob)));
}

export interface Violation {
  limit: PolicyKey;
  /** The target block it is about, if any. */
  target?: string;
  message: string;
}

/** Static and resolved checks can both catch one percentage: report it once. */
export function combineViolations(statics: Violation[], resolved: Violation[]): Violation[] {
  return [...statics, ...resolved.filter((r) => !statics.some((s) => s.limit === r.limit && s.target !== undefined && s.target === r.target))];
}

export interface StaticFacts {
  methodMs: number;
  hasWindows: boolean;
  /** Target blocks with select.percent, to refuse before anything is resolved. */
  percents: { target: string; percent: number }[];
  /** Faults whose action needs a permission of the policy (ec2.terminate: allowTerminate). */
  permissions?: { fault: string; action: string; permission: "allowTerminate" }[];
  /** Synthetic viewers each fault sends at its peak (flash crowds), for maxSurgeViewers. */
  crowds?: { fault: string; viewers: number }[];
}

/** What can be judged from the experiment alone (plan and run, before any target is resolved). */
export function checkStatic(facts: StaticFacts, policy: Policy): Violation[] {
  const out: Violation[] = [];
  if (policy.maxDuration && facts.methodMs > policy.maxDuration.value) {
    out.push({ limit: "maxDuration", message: `the method lasts ${formatDuration(facts.methodMs)}, longer than the policy's maxDuration of ${formatDuration(policy.maxDuration.value)} (${policy.maxDuration.source})` });
  }
  if (policy.maxPercent) {
    for (const { target, percent } of facts.percents) {
      if (percent > policy.maxPercent.value) {
        out.push({ limit: "maxPercent", target, message: `target "${target}" selects ${percent}% of its candidates, over the policy's maxPercent of ${policy.maxPercent.value}% (${policy.maxPercent.source})` });
      }
    }
  }
  const crowd = (facts.crowds ?? []).reduce((sum, c) => sum + c.viewers, 0);
  if (policy.maxSurgeViewers && crowd > policy.maxSurgeViewers.value) {
    const which = (facts.crowds ?? []).map((c) => `"${c.fault}" ${c.viewers}`).join(", ");
    out.push({ limit: "maxSurgeViewers", message: `the run's faults send ${crowd} synthetic viewers (${which}), more than the policy's maxSurgeViewers of ${policy.maxSurgeViewers.value} (${policy.maxSurgeViewers.source})` });
  }
  for (const need of facts.permissions ?? []) {
    if (policy[need.permission]?.value !== true) {
      const where = policy[need.permission] ? ` (${policy[need.permission]!.source} says ${need.permission}: false)` : "; no policy file (.chaoscast.yaml) allows it";
      out.push({ limit: need.permission, message: `fault "${need.fault}" uses ${need.action}, which CANNOT BE UNDONE; it runs only where the blast-radius policy says ${need.permission}: true${where}` });
    }
  }
  if (policy.requireWindow && !facts.hasWindows) {
    out.push({ limit: "requireWindow", message: `the policy requires a schedule window (${policy.requireWindow.source}), and the experiment has no schedule.windows` });
  }
  return out;
}

export interface ResolvedBlock {
  name: string;
  /** Candidates left after exclusions. */
  candidates: number;
  chosen: { id: string; label: string; context?: string | undefined; namespace?: string | undefined }[];
}

/** What can only be judged once targets are resolved (plan and run preflight). */
export function checkResolved(blocks: readonly ResolvedBlock[], policy: Policy): Violation[] {
  const out: Violation[] = [];
  const total = blocks.reduce((n, b) => n + b.chosen.length, 0);
  if (policy.maxTargets && total > policy.maxTargets.value) {
    out.push({ limit: "maxTargets", message: `the run would hit ${total} targets (${blocks.map((b) => `${b.name}: ${b.chosen.length}`).join(", ")}), over the policy's maxTargets of ${policy.maxTargets.value} (${policy.maxTargets.source})` });
  }
  for (const block of blocks) {
    if (policy.maxPercent && block.candidates > 0) {
      const percent = (block.chosen.length / block.candidates) * 100;
      if (percent > policy.maxPercent.value + 1e-9) {
        out.push({
          limit: "maxPercent",
          target: block.name,
          message: `target "${block.name}" would hit ${block.chosen.length} of ${block.candidates} candidates (${Number(percent.toFixed(1))}%), over the policy's maxPercent of ${policy.maxPercent.value}% (${policy.maxPercent.source})`,
        });
      }
    }
    for (const [key, field] of [["allowContexts", "context"], ["allowNamespaces", "namespace"]] as const) {
      const rules = policy[key];
      if (!rules) continue;
      for (const target of block.chosen) {
        const value = target[field];
        const refusing = value === undefined ? undefined : allowedByAll(rules, value);
        if (refusing) {
          out.push({ limit: key, message: `target "${block.name}" → ${target.label} is in ${field} "${value}", which the policy's ${key} (${refusing.value.join(", ")}) does not allow (${refusing.source})` });
        }
      }
    }
  }
  return out;
}

/** Where a target block (or a fault beyond its target) reaches: its context and namespaces. */
export interface BlockScope {
  /** Who reaches there, as a refusal names it: `target "api"`, `fault "drain" on node node-a`. */
  who: string;
  /** The target block, when the scope is one. */
  target?: string;
  context?: string | undefined;
  namespaces?: string[] | undefined;
}

/**
 * allowContexts and allowNamespaces judged on where the blocks reach, before a single request is
 * sent: a run against a context or namespace the policy does not allow never talks to it.
 */
export function checkScopes(scopes: readonly BlockScope[], policy: Policy): Violation[] {
  const out: Violation[] = [];
  for (const scope of scopes) {
    const reaches: [key: "allowContexts" | "allowNamespaces", field: string, values: string[]][] = [
      ["allowContexts", "context", scope.context === undefined ? [] : [scope.context]],
      ["allowNamespaces", "namespace", scope.namespaces ?? []],
    ];
    for (const [key, field, values] of reaches) {
      const rules = policy[key];
      if (!rules) continue;
      for (const value of values) {
        const refusing = allowedByAll(rules, value);
        if (refusing) out.push({ limit: key, ...(scope.target ? { target: scope.target } : {}), message: `${scope.who} reaches ${field} "${value}", which the policy's ${key} (${refusing.value.join(", ")}) does not allow (${refusing.source}); nothing was changed there` });
      }
    }
  }
  return out;
}
