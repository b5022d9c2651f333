// docker.kill's parameters: only signals that end a process; the rest are pointed elsewhere.

import { describe, expect, it } from "vitest";
import { registry } from "../../src/registry.js";

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
