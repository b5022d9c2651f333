// The crowd process: `node worker.js --chaoscast-viewers-surge <token>`, started by chaoscast with
// an IPC channel. It takes its settings from the first message, reports progress once a second,
// and ends when told to stop, when its maxDuration has passed, when it is signalled, or when the
// channel to chaoscast closes (chaoscast died, however it died).

import { Crowd } from "./crowd.js";
import type { CrowdEnd, FromCrowd, ToCrowd } from "./protocol.js";

function send(message: FromCrowd, then?: () => void): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => then?.());
  else then?.();
}

function main(): void {
  if (!process.send) {
    process.stderr.write("the viewers.surge crowd runs only as chaoscast's child, with an IPC channel\n");
    process.exit(2);
  }
  let crowd: Crowd | undefined;
  let why: CrowdEnd = "stopped";
  const end = (reason: CrowdEnd) => {
    if (!crowd) process.exit(0);
    why = reason;
    crowd.end();
  };
  process.on("disconnect", () => end("parent-gone"));
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, () => end("signal"));
  process.on("message", (message: ToCrowd) => {
    if (message.type === "stop") return end("stopped");
    if (message.type !== "start" || crowd) return;
    const config = message.config;
    crowd = new Crowd(config, (progress) => send({ type: "progress", progress }));
    const limit = setTimeout(() => end("max-duration"), config.maxDurationMs);
    crowd.run().then(
      (reached) => {
        clearTimeout(limit);
        // Exit once the last message has gone out.
        send({ type: "done", why, reached }, () => process.exit(0));
      },
      (err: unknown) => {
        send({ type: "failed", message: String((err as Error)?.message ?? err) });
        process.exit(1);
      },
    );
  });
  send({ type: "ready" });
}

main();
