// `run --notify URL`: a Slack-compatible incoming webhook (JSON with a `text` field, which Slack,
// Mattermost, Rocket.Chat and Google Chat all accept) told when each run starts, aborts and ends.
// Posts go out in order, each bounded by a timeout; a failed post is a warning, never an outcome.
// The URL is a credential (a Slack webhook's path is its token): only its origin is ever shown.

import type { RunEvent } from "../contract/events.js";
import { httpRequest } from "../util/http-request.js";
import type { Reporter } from "./reporter.js";

export interface WebhookOptions {
  timeoutMs?: number;
  /** Told (once per run of failures) that a post did not go through. */
  warn: (message: string) => void;
}

export class WebhookNotifier implements Reporter {
  readonly name = "webhook";
  private queue: Promise<void> = Promise.resolve();
  private title = "";
  private failing = false;
  readonly origin: string;

  constructor(
    private readonly url: string,
    private readonly options: WebhookOptions,
  ) {
    this.origin = webhookOrigin(url);
  }

  event(e: RunEvent): void {
    const text = messageFor(e, this.title);
    if (e.type === "run-started") this.title = e.title;
    if (text !== undefined) this.post(text);
  }

  /** Waits for the posts still going out (each bounded by its timeout). */
  async suiteFinished(): Promise<void> {
    await this.queue;
  }

  private post(text: string): void {
    this.queue = this.queue.then(async () => {
      try {
        const response = await httpRequest({
          url: this.url,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text }),
          timeoutMs: this.options.timeoutMs ?? 5_000,
          signal: new AbortController().signal,
          maxBodyBytes: 4096,
        });
        if (response.status >= 300) throw new Error(`it answered HTTP ${response.status}`);
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.options.warn(`could not notify ${this.origin}: ${(err as Error).message}; the run goes on`);
        this.failing = true;
      }
    });
  }
}

/** The URL as it may be shown: scheme, host and port, never the path or query that hold the token. */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "the webhook";
  }
}

/** Slack's escaping for message text: only &, < and > are special. */
function slack(text: string): string {
  // Control characters would reach every reader's client as they are: shown as the replacement character.
  return text
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

function messageFor(e: RunEvent, title: string): string | undefined {
  switch (e.type) {
    case "run-started":
      return `:test_tube: chaoscast started *${slack(e.title)}* (${slack(e.file)}): ${e.faults} fault(s), ${e.probes} probe(s), method ${Math.round(e.methodMs / 1000)}s, run ${slack(e.runId)}`;
    case "abort":
      return `:rotating_light: chaoscast is aborting *${slack(title)}*: ${slack(e.reason)}. Rolling back.`;
    case "run-finished": {
      const icon = e.outcome === "passed" || e.outcome === "dry-run" ? ":white_check_mark:" : e.outcome === "skipped" ? ":fast_forward:" : ":x:";
      const left = e.stillInjected.length ? ` STILL INJECTED: ${slack(e.stillInjected.join("; "))}` : "";
      return `${icon} chaoscast finished *${slack(title)}*: ${e.outcome} (exit ${e.exitCode}). ${slack(e.reason)}${left}`;
    }
    default:
      return undefined;
  }
}
