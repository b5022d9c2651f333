// The connection to the Docker engine, made the way the docker CLI makes it: DOCKER_HOST when set
// (unix://, tcp://), else the local socket (Docker Desktop's per-user one first). dockerode is
// loaded only when a Docker action runs.

import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type Dockerode from "dockerode";
import { AdapterError } from "../../errors.js";

let engine: Promise<Dockerode> | undefined;

const SCHEMES = ["unix:", "tcp:", "http:", "https:", "ssh:", "npipe:"];

export function dockerEngine(): Promise<Dockerode> {
  engine ??= checkDockerHost()
    .then(() => import("dockerode"))
    .then(({ default: Docker }) => new Docker())
    .catch((err: unknown) => {
      engine = undefined; // a DOCKER_HOST set right is taken next time
      throw err;
    });
  return engine;
}

/** docker-modem reads anything else in DOCKER_HOST as a host name, and fails with a DNS error that says nothing of it. */
async function checkDockerHost(): Promise<void> {
  const host = process.env.DOCKER_HOST;
  if (!host) return;
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(host)?.[1]?.toLowerCase();
  if (scheme && SCHEMES.includes(scheme)) return;
  throw new AdapterError(
    `DOCKER_HOST ${scheme ? `uses ${scheme}//, which chaoscast cannot reach a Docker engine through` : "has no scheme"}: give unix:///path/to/docker.sock, tcp://host:port (https://, ssh://user@host also work), or unset it for the local socket`,
  );
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
