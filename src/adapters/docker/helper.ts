// Short-lived helper containers: a program (argument array) run from an image next to a target,
// e.g. `tc` inside the target's network namespace. Each helper is labelled as chaoscast's own and
// excluded from targeting, waited for, read and removed, also when it times out.

import { AdapterError } from "../../errors.js";
import { dockerEngine, engineError, statusOf } from "./client.js";

export interface HelperOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface HelperSpec {
  image: string;
  argv: [string, ...string[]];
  /** `container:<id>` to share a target's network namespace, `none` for an empty one of its own. */
  networkMode: string;
  capAdd?: string[];
  /** Says what the helper is for in its labels and in errors, e.g. "docker.netem". */
  purpose: string;
  timeoutMs?: number;
}

/** Fails with a message saying how to get the image when the engine does not have it (nothing is pulled). */
export async function requireImage(image: string, purpose: string): Promise<void> {
  try {
    await (await dockerEngine()).getImage(image).inspect();
  } catch (err) {
    if (statusOf(err) === 404) {
      throw new AdapterError(`${purpose} needs the helper image ${image} on the Docker host and it is not there; chaoscast does not pull images mid-run: pull it first (docker pull ${image}) or set image: to one that is`);
    }
    throw engineError(`inspecting image ${image}`, err);
  }
}

export async function runHelper(spec: HelperSpec): Promise<HelperOutcome> {
  const docker = await dockerEngine();
  const [program, ...args] = spec.argv;
  let container;
  try {
    container = await docker.createContainer({
      Image: spec.image,
      // The program replaces any entrypoint the image has (iproute2 images often set `ip`).
      Entrypoint: [program],
      Cmd: args,
      Labels: { "chaoscast.io/exclude": "true", "chaoscast.helper": spec.purpose },
      // json-file whatever the daemon's default: the output is read back through the logs API.
      HostConfig: { NetworkMode: spec.networkMode, CapAdd: spec.capAdd ?? [], AutoRemove: false, LogConfig: { Type: "json-file", Config: {} } },
    });
  } catch (err) {
    throw engineError(`${spec.purpose}: creating a helper container from ${spec.image}`, err);
  }
  try {
    await container.start();
    const timeoutMs = spec.timeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      container.wait() as Promise<{ StatusCode: number }>,
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (waited === "timeout") throw new AdapterError(`${spec.purpose}: the helper \`${spec.argv.join(" ")}\` did not finish within ${timeoutMs} ms`);
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return { exitCode: waited.StatusCode, ...demultiplex(logs) };
  } catch (err) {
    if (err instanceof AdapterError) throw err;
    throw engineError(`${spec.purpose}: running the helper \`${spec.argv.join(" ")}\` from ${spec.image}`, err);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * Docker's log stream for a container without a TTY: frames of an 8-byte header (stream 1 stdout
 * or 2 stderr, three zero bytes, a big-endian length) followed by that many bytes.
 */
export function demultiplex(logs: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + 8 <= logs.length) {
    const stream = logs[at]!;
    const length = logs.readUInt32BE(at + 4);
    const body = logs.subarray(at + 8, at + 8 + length);
    (stream === 2 ? err : out).push(body);
    at += 8 + length;
  }
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}
