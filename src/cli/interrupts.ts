// SIGINT, SIGTERM and SIGHUP become an abort of the run (which then rolls back). Repeated signals
// do not cut the rollback short: they only say that it is in progress.

export interface InterruptHandle {
  signal: AbortSignal;
  /** The first crash (uncaught exception or unhandled rejection) seen while trapped, if any. */
  crash(): unknown;
  dispose(): void;
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export function trapInterrupts(onSignal: (signal: NodeJS.Signals, first: boolean) => void): InterruptHandle {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    const first = !controller.signal.aborted;
    if (first) controller.abort(signal);
    onSignal(signal, first);
  };
  // A bug must not kill the process with faults still injected: turn it into an abort, so the run
  // rolls back, and report it afterwards.
  let crashed: unknown;
  const onCrash = (err: unknown) => {
    crashed ??= err;
    if (!controller.signal.aborted) controller.abort(`internal error: ${err instanceof Error ? err.message : String(err)}`);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  return {
    signal: controller.signal,
    crash: () => crashed,
    dispose: () => {
      for (const signal of SIGNALS) process.off(signal, handler);
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    },
  };
}
