// SIGINT, SIGTERM and SIGHUP become an abort of the run (which then rolls back). Repeated signals
// do not cut the rollback short: they only say that it is in progress.

export interface InterruptHandle {
  signal: AbortSignal;
  /** The first crash (uncaught exception or unhandled rejection) seen while trapped, if any. */
  crash(): unknown;
  dispose(): void;
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

// The parent as seen at the first line of the launcher, before loading the CLI: on a busy machine
// loading takes long enough for a short-lived parent to exit in between, and the orphaning would
// then go unnoticed if the parent were read only when the run starts.
let launcherPid: number | undefined;
export function rememberLauncher(pid: number): void {
  launcherPid = pid;
}

/**
 * `why` may add to a signal's name what is known of who sent it (the halt file of `chaoscast
 * halt`), so the run's abort reason and journal say it: "SIGTERM (chaoscast halt: …)".
 */
export function trapInterrupts(onSignal: (signal: NodeJS.Signals, first: boolean) => void, why?: (signal: NodeJS.Signals) => string | undefined): InterruptHandle {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals) => {
    const first = !controller.signal.aborted;
    if (first) {
      let detail: string | undefined;
      try {
        detail = why?.(signal);
      } catch {
        // Only a better message: the abort itself must happen whatever this does.
      }
      controller.abort(detail ? `${signal} (${detail})` : signal);
    }
    onSignal(signal, first);
  };
  // A bug must not kill the process with faults still injected: turn it into an abort, so the run
  // rolls back, and report it afterwards.
  let crashed: unknown;
  const onCrash = (err: unknown) => {
    crashed ??= err;
    if (!controller.signal.aborted) controller.abort(`internal error: ${err instanceof Error ? err.message : String(err)}`);
  };
  // If whoever started chaoscast dies (npx killed by a scheduler, a CI runner torn down), no signal
  // may reach us: treat the orphaning itself as an interrupt, so faults never outlive the job.
  const parent = launcherPid ?? process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid !== parent && !controller.signal.aborted) {
      controller.abort("the process that started chaoscast exited");
      onSignal("SIGHUP", true);
    }
  }, 500);
  orphanWatch.unref();
  for (const signal of SIGNALS) process.on(signal, handler);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  return {
    signal: controller.signal,
    crash: () => crashed,
    dispose: () => {
      clearInterval(orphanWatch);
      for (const signal of SIGNALS) process.off(signal, handler);
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
    },
  };
}
