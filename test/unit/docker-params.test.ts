// What the docker adapter refuses before it talks to any engine: docker.kill signals that do not
// kill, docker.limit values Docker would refuse, and a DOCKER_HOST it cannot reach an engine through.

import { describe, expect, it } from "vitest";
import { registry } from "../../src/registry.js";
import { dockerEngine } from "../../src/adapters/docker/client.js";

const kill = registry.actions.get("docker.kill")!;

describe("docker.kill parameters", () => {
  it("refuses signals that freeze or resume rather than kill, pointing to docker.pause", () => {
    const refused = kill.params.safeParse({ signal: "SIGSTOP" });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toBe("SIGSTOP does not end a container (it freezes, resumes or is ignored); to freeze one, use docker.pause");
    for (const signal of ["SIGTSTP", "SIGCONT", "SIGWINCH"]) expect(kill.params.safeParse({ signal }).success, signal).toBe(false);
  });

  it("takes any signal that ends a process, SIGKILL and 10s to end by default", () => {
    expect(kill.params.parse({})).toEqual({ signal: "SIGKILL", within: 10_000 });
    for (const signal of ["SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1"]) expect(kill.params.safeParse({ signal }).success, signal).toBe(true);
  });

  it("says what a signal should look like when it is not one", () => {
    expect(kill.params.safeParse({ signal: "KILL" }).error?.issues[0]?.message).toBe("expected a signal name such as SIGKILL, SIGTERM or SIGINT");
  });
});

describe("docker.limit parameters", () => {
  const limit = registry.actions.get("docker.limit")!;
  it("refuses a CPU limit below Docker's smallest, saying what the smallest is", () => {
    expect(limit.params.safeParse({ cpus: 0 }).error?.issues[0]?.message).toBe("cpus must be at least 0.01 (Docker's smallest CPU limit)");
    expect(limit.params.safeParse({ cpus: 0.001 }).success).toBe(false);
    expect(limit.params.parse({ cpus: 0.01, memory: "64m" })).toEqual({ cpus: 0.01, memory: 64 * 1024 ** 2 });
  });
});

describe("DOCKER_HOST", () => {
  it("is refused with the schemes that work when docker-modem would read it as a host name", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "garbage://x";
    try {
      await expect(dockerEngine()).rejects.toThrow("DOCKER_HOST uses garbage://, which chaoscast cannot reach a Docker engine through: give unix:///path/to/docker.sock, tcp://host:port");
      process.env.DOCKER_HOST = "/var/run/docker.sock";
      await expect(dockerEngine()).rejects.toThrow("DOCKER_HOST has no scheme");
      process.env.DOCKER_HOST = "unix:///nowhere/docker.sock";
      await expect(dockerEngine()).resolves.toBeDefined();
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
