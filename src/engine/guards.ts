// Guards: the "no chaos now" switches outside any experiment, after Chaos Monkey's outage checker
// and AWS FIS's safety lever. The halt file (`chaoscast halt`) and the policy's guards are checked
// before a run starts (the guards gate) and all through its method; one that trips aborts the run
// as a breach would. A guard that cannot be checked (Prometheus unreachable) trips: when in doubt,
// no chaos.

import { lstat } from "node:fs/promises";
import { errorMessage } from "../errors.js";
import type { GuardSpec, Policy } from "../policy/rules.js";
import { PrometheusClient } from "../prometheus/client.js";
import { readRegularText } from "../util/safe-read.js";
import { httpRequest } from "../util/http-request.js";

export interface Guard {
  spec: GuardSpec;
  /** Where it was set, for messages: a policy file, or "chaoscast halt". */
  source: string;
}

/** The guards in force: the halt file, and every policy file's. */
export function guardsOf(policy: Policy, haltFile: string | undefined): Guard[] {
  return [...(haltFile ? [{ spec: { file: haltFile }, source: "chaoscast halt" }] : []), ...(policy.guards ?? []).map((rule) => ({ spec: rule.value, source: rule.source }))];
}

/** File guards are checked this often during the method: a halt is seen within this long. */
export const FILE_GUARD_INTERVAL_MS = 200;

export function isFileGuard(guard: Guard): boolean {
  return "file" in guard.spec;
}

/** Why the first tripped guard says no, or null when every guard allows chaos. */
export async function trippedGuard(guards: readonly Guard[], signal: AbortSignal): Promise<string | null> {
  const verdicts = await Promise.all(guards.map((guard) => checkGuard(guard, signal)));
  return verdicts.find((v) => v !== null) ?? null;
}

async function checkGuard(guard: Guard, signal: AbortSignal): Promise<string | null> {
  const spec = guard.spec;
  if ("file" in spec) {
    // lstat: a link at the path is a thrown switch even when it points nowhere.
    const exists = await lstat(spec.file).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code !== "ENOENT",
    );
    if (!exists) return null;
    // The halt file's first line says who halted and why; anything else about it is not read.
    const why = await readRegularText(spec.file, { maxBytes: 4096, kind: "halt files" }).then(
      (text) => text.split("\n")[0]!.trim().slice(0, 200),
      () => "",
    );
    return `the guard file ${spec.file} exists (${guard.source})${why ? `: ${why}` : ""}`;
  }
  if ("http" in spec) {
    // A status URL may carry a token (user:password@, ?token=): messages and journals get neither.
    const shown = shownUrl(spec.http.url);
    try {
      const answer = await httpRequest({ url: spec.http.url, method: "GET", headers: {}, timeoutMs: spec.http.timeout, signal, maxBodyBytes: 1024 });
      return answer.status >= 200 && answer.status < 300 ? null : `the guard URL ${shown} answered ${answer.status}, not 2xx (${guard.source})`;
    } catch (err) {
      return `the guard URL ${shown} did not answer (${errorMessage(err).replaceAll(spec.http.url, shown)}); a guard that cannot be checked says no (${guard.source})`;
    }
  }
  const { url, alert, timeout } = spec.prometheus;
  const client = new PrometheusClient({ url, timeout, headers: {} } as ConstructorParameters<typeof PrometheusClient>[0]);
  try {
    const result = await client.query(`ALERTS{alertstate="firing",alertname=${JSON.stringify(alert)}}`, { signal, timeoutMs: timeout });
    // ALERTS is an instant vector; any other answer cannot say the alert is quiet.
    if (result.kind !== "vector") return `the guard's Prometheus ${client.shownUrl} answered a ${result.kind}, not a vector, for ${alert}; a guard that cannot be checked says no (${guard.source})`;
    return result.series.length > 0 ? `the alert ${alert} is firing in ${client.shownUrl} (${guard.source})` : null;
  } catch (err) {
    return `the guard's Prometheus ${client.shownUrl} could not say whether ${alert} fires (${errorMessage(err)}); a guard that cannot be checked says no (${guard.source})`;
  }
}

/** A URL as messages may show it: scheme, host, port and path; never user, password or query. */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "the guard URL";
  }
}
