// SIGINT, SIGTERM and SIGHUP become an abort of the run (which then rolls back). Repeated signals
// do not cut the rollback short: they only say that it is in progress.

export interface InterruptHandle {
  signal: AbortSignal;
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
  for (const signal of SIGNALS) process.on(signal, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const signal of SIGNALS) process.off(signal, handler);
    },
  };
}
