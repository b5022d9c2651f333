// The connection to the Docker engine, made the way the docker CLI makes it: DOCKER_HOST when set
// (unix://, tcp://), else the local socket (Docker Desktop's per-user one first). dockerode is
// loaded only when a Docker action runs.

import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type Dockerode from "dockerode";
import { AdapterError } from "../../errors.js";

let engine: Promise<Dockerode> | undefined;

export function dockerEngine(): Promise<Dockerode> {
  engine ??= import("dockerode").then(({ default: Docker }) => new Docker());
  return engine;
}

let identity: Promise<string> | undefined;

/**
 * The engine's own ID (`docker info`): what a revert is checked against, since the address alone
 * does not say which engine answers (docker-modem may prefer a per-user socket, a context …).
 */
export function engineId(): Promise<string> {
  identity ??= dockerEngine()
    .then((docker) => docker.info())
    .then((info: { ID?: string }) => info.ID || "unknown")
    .catch((err: unknown) => {
      identity = undefined;
      throw engineError("asking the Docker engine who it is", err);
    });
  return identity;
}

/** Where the engine is reached, as dockerode picks it: DOCKER_HOST, else the per-user socket Docker Desktop makes, else the system one. */
export function engineAddress(): string {
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  const userSocket = path.join(os.homedir(), ".docker", "run", "docker.sock");
  return `unix://${existsSync(userSocket) ? userSocket : "/var/run/docker.sock"}`;
}

/** Docker's HTTP status on a failed call (404 no such container, 304 already in that state …). */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** An engine call that failed, as a message a person can act on. */
export function engineError(what: string, err: unknown): AdapterError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT" || code === "ECONNREFUSED" || code === "EACCES") {
    return new AdapterError(`${what}: no Docker engine answers at ${engineAddress()} (${code}); is dockerd running, and may this user use it?`, {}, { cause: err });
  }
  const reason = (err as { json?: { message?: string } })?.json?.message ?? (err as Error)?.message ?? String(err);
  return new AdapterError(`${what}: ${reason.trim()}`, {}, { cause: err });
}
