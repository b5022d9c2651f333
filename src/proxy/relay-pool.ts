// Relay processes for the fault proxy's TCP links, so relaying uses more than one core. The main
// process accepts each connection (listeners, enable and disable stay there) and hands it, not yet
// read from, to the relay process with the fewest connections handed so far, together with the
// proxy's toxics at that moment; every later toxic change goes to every relay process. `synced`
// resolves once each has acted on everything sent before it, so an API call that changed a toxic
// answers only when the change is in effect on every connection.

import { fork, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import type { FromRelay, ToRelay, ToxicSettings } from "./relay-messages.js";

const SYNC_TIMEOUT_MS = 5_000;

interface RelayProcess {
  child: ChildProcess;
  handed: number;
  waiting: Map<number, () => void>;
}

export class RelayPool {
  private readonly relays: RelayProcess[] = [];
  private seq = 0;
  private closing = false;

  private constructor(private readonly onExit: (message: string) => void) {}

  /** Start `count` relay processes; resolves when all are ready. */
  static async start(count: number, onExit: (message: string) => void = () => {}): Promise<RelayPool> {
    const pool = new RelayPool(onExit);
    // The compiled relay sits next to this file; under the test runner (TypeScript sources) the
    // built one is used.
    let script = fileURLToPath(new URL("./relay-worker.js", import.meta.url));
    if (import.meta.url.endsWith(".ts")) script = fileURLToPath(new URL("../../dist/proxy/relay-worker.js", import.meta.url));
    try {
      await Promise.all(Array.from({ length: count }, () => pool.spawn(script)));
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  private spawn(script: string): Promise<void> {
    const child = fork(script, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "json" });
    const relay: RelayProcess = { child, handed: 0, waiting: new Map() };
    return new Promise((resolve, reject) => {
      child.once("error", reject);
      // A failed send to a relay that is going away is reported by its exit.
      child.on("error", () => {});
      child.on("message", (message: FromRelay) => {
        if (message.type === "ready") {
          this.relays.push(relay);
          resolve();
        } else if (message.type === "synced") {
          relay.waiting.get(message.seq)?.();
          relay.waiting.delete(message.seq);
        }
      });
      child.once("exit", (code, signal) => {
        const index = this.relays.indexOf(relay);
        if (index >= 0) this.relays.splice(index, 1);
        for (const release of relay.waiting.values()) release();
        relay.waiting.clear();
        if (!this.closing) this.onExit(`a relay process exited (${signal ?? `code ${code}`}); its connections closed, ${this.relays.length} left`);
        reject(new Error(`the relay process exited before it was ready (${signal ?? `code ${code}`})`));
      });
    });
  }

  /**
   * Give an accepted connection to a relay process. False when none is running: the caller relays
   * it itself. The socket must not have been read from (its server pauses on connect).
   */
  handOff(proxy: string, upstream: string, toxics: ToxicSettings[], client: Socket): boolean {
    const relay = this.relays.reduce<RelayProcess | undefined>((best, r) => (!best || r.handed < best.handed ? r : best), undefined);
    if (!relay?.child.connected) return false;
    relay.handed += 1;
    const message: ToRelay = { type: "relay", proxy, upstream, toxics };
    relay.child.send(message, client, { keepOpen: false }, (err) => {
      if (err) client.destroy();
    });
    return true;
  }

  toxicSet(proxy: string, toxic: ToxicSettings): void {
    this.broadcast({ type: "toxic-set", proxy, toxic });
  }

  toxicRemoved(proxy: string, name: string): void {
    this.broadcast({ type: "toxic-remove", proxy, name });
  }

  dropConnections(proxy: string): void {
    this.broadcast({ type: "drop", proxy });
  }

  /**
   * Resolves when every relay process has acted on all that was sent before. One that does not
   * answer within a few seconds is hung: it is killed (its connections close), so a change to a
   * toxic is never reported done while a hung process may still relay without it.
   */
  async synced(): Promise<void> {
    const seq = ++this.seq;
    await Promise.all(
      this.relays.map(
        (relay) =>
          new Promise<void>((resolve) => {
            if (!relay.child.connected) return resolve();
            const hung = setTimeout(() => {
              relay.waiting.delete(seq);
              relay.child.kill("SIGKILL");
              resolve();
            }, SYNC_TIMEOUT_MS);
            relay.waiting.set(seq, () => {
              clearTimeout(hung);
              resolve();
            });
            relay.child.send({ type: "sync", seq } satisfies ToRelay);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.relays.map(
        (relay) =>
          new Promise<void>((resolve) => {
            if (relay.child.exitCode !== null || relay.child.signalCode !== null) return resolve();
            relay.child.once("exit", () => resolve());
            // Closing the channel ends the relay process, and its connections with it.
            relay.child.disconnect();
            setTimeout(() => relay.child.kill("SIGKILL"), 2_000).unref();
          }),
      ),
    );
    this.relays.length = 0;
  }

  private broadcast(message: ToRelay): void {
    for (const relay of this.relays) if (relay.child.connected) relay.child.send(message);
  }
}
