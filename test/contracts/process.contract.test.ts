// The adapter contract for local processes: real processes (the fixture HTTP server), observed
// through /proc before, during and after each fault.

import { afterAll } from "vitest";
import { registry } from "../../src/registry.js";
import type { RunContext } from "../../src/contract/adapter.js";
import { pollUntil, processState, startServer, type TestServer } from "../helpers/processes.js";
import { adapterContract, failingCase, runAdapterContract, type Arranged } from "./adapter-contract.js";

const ctx: RunContext = { signal: new AbortController().signal, runId: "process-contract", note: () => {}, defer: () => {} };
const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

/** What /proc shows of the process: whether it lives, and whether it is stopped (state T). */
interface Seen {
  alive: boolean;
  stopped: boolean;
}

async function aServer(prepare: (server: TestServer) => Promise<void> | void = () => {}): Promise<Arranged<Seen>> {
  const server = await startServer();
  servers.push(server);
  await prepare(server);
  const def = registry.targetKinds.get("process")!;
  const [target] = await def.resolve(def.selector.parse({ pid: server.pid }), ctx);
  if (!target) throw new Error(`the test server (pid ${server.pid}) was not found as a target`);
  const observe = async () => {
    const state = processState(server.pid);
    return { alive: state !== undefined, stopped: state === "T" };
  };
  return { target, observe };
}

runAdapterContract({
  adapter: "process",
  skip: false,
  cases: [
    adapterContract<Seen>({ action: "process.suspend", params: {}, does: "freezes the process", arrange: () => aServer(), showsFault: (now) => now.alive && now.stopped }),
    adapterContract<Seen>({
      action: "process.signal",
      params: { signal: "SIGSTOP", revertSignal: "SIGCONT" },
      does: "sends a signal that a reverting signal undoes",
      arrange: () => aServer(),
      showsFault: (now) => now.stopped,
    }),
  ],
  failing: [
    failingCase<Seen>({
      action: "process.suspend",
      params: {},
      when: "someone else froze the process",
      // A signal is delivered after kill() returns: wait until the kernel shows the process stopped.
      arrange: () =>
        aServer(async (server) => {
          process.kill(server.pid, "SIGSTOP");
          await pollUntil(() => processState(server.pid) === "T", 5_000);
        }),
      error: /is already stopped; chaoscast will not take over a freeze it did not make/,
    }),
  ],
});
