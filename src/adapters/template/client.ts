// The backend the adapter talks to. Replace this with the real client (an SDK, an HTTP API, a
// CLI run through execa with an argument array). Two rules carry over to any backend:
// - Load a heavy SDK lazily (`await import("…")` inside `connect`), so `chaoscast --help` stays fast.
// - Everything a revert needs to reach the backend again is plain data (an endpoint, a context
//   name): `chaoscast rollback` rebuilds the client from the state file in another process.

/** One thing the backend holds that a fault can change: here, a named on/off switch. */
export interface Switch {
  name: string;
  on: boolean;
  /** Labels the backend keeps on it; `chaoscast.io/exclude: "true"` keeps it out of every run. */
  labels: Record<string, string>;
}

export interface TemplateBackend {
  list(): Promise<Switch[]>;
  get(name: string): Promise<Switch | undefined>;
  set(name: string, on: boolean): Promise<void>;
}

/** How the adapter reaches a backend from recorded data alone. */
export type Connect = (endpoint: string) => TemplateBackend;
