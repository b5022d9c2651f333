// Reaching EC2 the way the AWS CLI does: the SDK's standard credential chain (environment, shared
// config and credentials files with profiles, SSO, IMDS on an instance), the region from the target,
// AWS_REGION or the profile, and the SDK's endpoint settings (AWS_ENDPOINT_URL_EC2,
// AWS_ENDPOINT_URL) for emulators such as moto. @aws-sdk/client-ec2 is loaded on first use only.
//
// Credentials never leave the SDK: nothing here reads, prints or records them.

import { AdapterError, PreflightError } from "../../errors.js";

export type Ec2Module = typeof import("@aws-sdk/client-ec2");
type Ec2Client = InstanceType<Ec2Module["EC2Client"]>;

/** Where a target lives: a region, and the profile of the shared config to use there. */
export interface Place {
  region: string;
  profile?: string | undefined;
}

export interface Ec2 {
  m: Ec2Module;
  client: Ec2Client;
  place: Place;
}

/**
 * Throttling (RequestLimitExceeded) and transient errors are retried by the SDK itself with
 * exponential backoff and jitter; adaptive mode also slows the client down while EC2 throttles.
 */
const MAX_ATTEMPTS = 8;

let ec2Module: Promise<Ec2Module> | undefined;
export function loadEc2(): Promise<Ec2Module> {
  // The SDK warns on every Node 20 run that its later releases will need Node 22; chaoscast pins a
  // release that supports the Node it runs on, so the warning is only noise in run logs (set the
  // variable to false to see it).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  ec2Module ??= import("@aws-sdk/client-ec2");
  return ec2Module;
}

const clients = new Map<string, Promise<Ec2>>();

/** A client for a region (given, or as the SDK resolves it) and a profile; one per pair. */
export function ec2For(region: string | undefined, profile: string | undefined): Promise<Ec2> {
  const key = `${region ?? ""}\u0000${profile ?? ""}`;
  let found = clients.get(key);
  if (!found) {
    found = connect(region, profile);
    clients.set(key, found);
    found.catch(() => clients.delete(key));
  }
  return found;
}

async function connect(region: string | undefined, profile: string | undefined): Promise<Ec2> {
  const m = await loadEc2();
  const client = new m.EC2Client({ ...(region ? { region } : {}), ...(profile ? { profile } : {}), maxAttempts: MAX_ATTEMPTS, retryMode: "adaptive" });
  let resolved: string;
  try {
    resolved = await client.config.region();
  } catch {
    resolved = "";
  }
  if (!resolved) {
    throw new PreflightError(`no AWS region: set region: in the ec2 target, AWS_REGION, or a region in the profile${profile ? ` "${profile}"` : ""} of ~/.aws/config`);
  }
  return { m, client, place: { region: resolved, ...(profile ? { profile } : {}) } };
}

/**
 * One EC2 request, its failure said for a person: a missing permission names the API call, missing
 * credentials say where they were looked for. `what` is the call, e.g. "ec2:StopInstances on i-0abc".
 */
export async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    throw explain(what, err);
  }
}

export function explain(what: string, err: unknown): Error {
  const e = err as { name?: string; message?: string; Code?: string };
  const name = e.Code ?? e.name ?? "";
  if (name === "UnauthorizedOperation" || name === "AccessDenied" || name === "AccessDeniedException") {
    return new AdapterError(`not allowed: ${what} (${name}); grant that action to the credentials chaoscast uses (docs/adapters/aws.md lists the least privilege)`, {}, { cause: err });
  }
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e.message ?? "")) {
    return new PreflightError(`no AWS credentials for ${what}: looked in the environment, the shared config and credentials files (profile), SSO and the instance metadata service`, { cause: err });
  }
  if (name === "AuthFailure" || name === "InvalidClientTokenId" || name === "SignatureDoesNotMatch") {
    return new PreflightError(`AWS refused the credentials for ${what} (${name})`, { cause: err });
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket hang up/.test(e.message ?? "")) {
    return new AdapterError(`could not reach EC2 for ${what}: ${e.message}`, {}, { cause: err });
  }
  return new AdapterError(`${what} failed: ${name ? `${name}: ` : ""}${e.message ?? String(err)}`, {}, { cause: err });
}

/**
 * EC2's own dry run: the request is checked (permissions included) and not made. DryRunOperation
 * means it would have succeeded; UnauthorizedOperation names what is missing.
 */
export async function dryRun(what: string, request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
  } catch (err) {
    const name = (err as { Code?: string; name?: string }).Code ?? (err as { name?: string }).name;
    if (name === "DryRunOperation") return;
    throw explain(`${what} (checked with DryRun)`, err);
  }
  // An endpoint that ignores DryRun would have made the change: say so rather than pass silently.
  throw new AdapterError(`${what}: the endpoint did not honour DryRun (it answered as if the request had been made); check the instance by hand`);
}
