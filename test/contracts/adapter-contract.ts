// The contract every adapter's reversible actions keep against their real backend: inject, see the
// fault there, revert from the recorded data alone, see it gone, revert again as a harmless no-op;
// and an injection that fails (in preflight, prepare or apply) leaves the target as it was.

import { isDeepStrictEqual } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { registry } from "../../src/registry.js";
import { revertPerformer } from "../../src/engine/rollback.js";
import type { Revert, RunContext, Target } from "../../src/contract/adapter.js";
import { eventually } from "../helpers/poll.js";

/** A fresh target on the real backend, and what the backend shows of it. */
export interface Arranged<O> {
  target: Target;
  /** What the backend shows of the target; compared before, during and after the fault. */
  observe(): Promise<O>;
  /** Parameters only known once the target exists (the network it was put on …), over the case's. */
  params?: Record<string, unknown>;
}

export interface ContractCase<O> {
  action: string;
  params: Record<string, unknown>;
  /** What the fault is, as the test names say it: "pauses the container". */
  does: string;
  arrange(): Promise<Arranged<O>>;
  /** Whether an observation shows the fault, given the one made before it. */
  showsFault(now: O, before: O): boolean;
}

export interface FailingCase<O> {
  action: string;
  params: Record<string, unknown>;
  /** Why it fails, as the test name says it: "a SIGTERM the container's PID 1 ignores". */
  when: string;
  arrange(): Promise<Arranged<O>>;
  /** The error the user is given. */
  error: RegExp;
}

export interface AdapterContract {
  adapter: string;
  skip: boolean;
  cases: ContractCase<unknown>[];
  failing: FailingCase<unknown>[];
  cleanup?(): Promise<void>;
}

const perform = revertPerformer(registry.reverts);

function context(runId: string): RunContext {
  return { signal: new AbortController().signal, runId, note: () => {}, defer: () => {} };
}

/** The revert as `chaoscast rollback` has it after a crash: only what the state file kept. */
function fromStateFile(revert: Revert): Revert {
  return JSON.parse(JSON.stringify(revert)) as Revert;
}

export function adapterContract<O>(c: ContractCase<O>): ContractCase<unknown> {
  return c as unknown as ContractCase<unknown>;
}

export function failingCase<O>(c: FailingCase<O>): FailingCase<unknown> {
  return c as unknown as FailingCase<unknown>;
}

export function runAdapterContract(contract: AdapterContract): void {
  describe.skipIf(contract.skip)(`the ${contract.adapter} adapter keeps the adapter contract`, () => {
    afterAll(async () => contract.cleanup?.());
    if (!contract.skip) {
      it("names only actions and reverts the registry has, with at least one failing case", () => {
        for (const c of [...contract.cases, ...contract.failing]) expect(registry.actions.has(c.action), c.action).toBe(true);
        expect(contract.failing.length).toBeGreaterThan(0);
      });
    }

    // Each case is one test that arranges its own fresh target and takes it through every step, so
    // it runs alone (-t) and in any order (--sequence.shuffle); the assertion messages name the step.
    for (const c of contract.cases) {
      describe(`${c.action} ${JSON.stringify(c.params)}`, () => {
        it(`${c.does}, and the backend shows it; a revert from the recorded data alone restores the target, and a second one neither fails nor changes anything`, async () => {
          const ctx = context(`contract-${c.action}`);
          const def = registry.actions.get(c.action)!;
          const arranged = await c.arrange();
          const before = await arranged.observe();
          let revert: Revert | null = null;
          let reverted = false;
          try {
            // Inject, and the backend shows it. Some faults land asynchronously (a signal is delivered
            // when the kernel gets to it): the backend is polled until it shows them, never slept on.
            const params = def.params.parse({ ...c.params, ...arranged.params });
            await def.preflight?.(params, arranged.target, ctx);
            const injection = await def.prepare(params, arranged.target, ctx);
            revert = injection.revert;
            expect(revert, "a reversible action writes its revert before it acts").not.toBeNull();
            await injection.apply(ctx);
            const during = await eventually(arranged.observe, (o) => c.showsFault(o, before));
            expect(c.showsFault(during, before), `injected: the backend shows ${JSON.stringify(during)}, before ${JSON.stringify(before)}`).toBe(true);

            // Reverted from the recorded data alone, the backend shows the target as it was. As the
            // runner does: what keeps the fault alive in this process (a lease) stops first.
            await revert!.release?.();
            await perform(fromStateFile(revert!), ctx);
            reverted = true;
            expect(await eventually(arranged.observe, (o) => isDeepStrictEqual(o, before)), "reverted: the target is as it was").toEqual(before);

            // Reverted again: a no-op that neither fails nor changes anything.
            await perform(fromStateFile(revert!), ctx);
            expect(await arranged.observe(), "reverted again: nothing changed").toEqual(before);
          } finally {
            // A step that failed half-way leaves no fault on the backend for the tests after this one.
            if (revert && !reverted) {
              await (revert as Revert).release?.();
              await perform(fromStateFile(revert), ctx).catch(() => {});
            }
          }
        });
      });
    }

    for (const c of contract.failing) {
      it(`leaves the target as it was when ${c.action} fails: ${c.when}`, async () => {
        const ctx = context(`contract-failing-${c.action}`);
        const arranged = await c.arrange();
        const before = await arranged.observe();
        const def = registry.actions.get(c.action)!;
        let revert: Revert | null = null;
        const attempt = async () => {
          const params = def.params.parse({ ...c.params, ...arranged.params });
          await def.preflight?.(params, arranged.target, ctx);
          const injection = await def.prepare(params, arranged.target, ctx);
          revert = injection.revert;
          await injection.apply(ctx);
        };
        await expect(attempt()).rejects.toThrow(c.error);
        // The runner reverts a fault whose apply failed half-way; that revert must succeed too.
        if (revert) {
          await (revert as Revert).release?.();
          await perform(fromStateFile(revert), ctx);
        }
        expect(await arranged.observe()).toEqual(before);
      });
    }
  });
}
