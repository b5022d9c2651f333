// re2js matching on one long-lived worker thread, each match with a deadline: a match that runs past
// it ends the thread (a new one starts for the next), so no pattern or text can stall the event loop.

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

export type ThreadMatch =
  | { status: "done"; matched: boolean }
  | { status: "timeout" }
  | { status: "cancelled" }
  | { status: "failed"; message: string };

export interface ThreadJob {
  pattern: string;
  /** RE2JS flag bits. */
  flags: number;
  text: string;
  /** Counted from the call, so time spent queued behind another match counts too. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

interface Pending {
  id: number;
  job: ThreadJob;
  settle: (result: ThreadMatch) => void;
}

/** Compiled patterns kept by the worker; the same few are matched every probe round. */
const CACHE_SIZE = 64;

// Code from a string, loading re2js by absolute path: the same code runs from src under vitest and
// from dist, with no worker file to find. It uses import(), not require, because a worker evaluates
// its string as an ES module when the parent was started that way (node --input-type=module).
const workerSource = (re2jsUrl: string) => `
Promise.all([import("node:worker_threads"), import(${JSON.stringify(re2jsUrl)})]).then(([{ parentPort }, re2js]) => {
  const { RE2JS } = re2js.default ?? re2js;
  const cache = new Map();
  parentPort.on("message", ({ id, pattern, flags, text }) => {
    try {
      const key = flags + "/" + pattern;
      let regex = cache.get(key);
      if (regex === undefined) {
        regex = RE2JS.compile(pattern, flags);
        if (cache.size >= ${CACHE_SIZE}) cache.delete(cache.keys().next().value);
        cache.set(key, regex);
      }
      parentPort.postMessage({ id, matched: regex.test(text) });
    } catch (err) {
      parentPort.postMessage({ id, error: String((err && err.message) || err) });
    }
  });
});
`;

let worker: Worker | undefined;
let running: Pending | undefined;
const queue: Pending[] = [];
let nextId = 0;
let workersStarted = 0;

/** Match on the worker; resolves "timeout" (thread ended) once `timeoutMs` has passed. */
export function matchInThread(job: ThreadJob): Promise<ThreadMatch> {
  if (job.signal?.aborted) return Promise.resolve({ status: "cancelled" });
  return new Promise((resolve) => {
    const pending: Pending = { id: nextId++, job, settle: () => {} };
    const timer = setTimeout(() => giveUp(pending, { status: "timeout" }), job.timeoutMs);
    const onAbort = () => giveUp(pending, { status: "cancelled" });
    job.signal?.addEventListener("abort", onAbort, { once: true });
    pending.settle = (result) => {
      clearTimeout(timer);
      job.signal?.removeEventListener("abort", onAbort);
      resolve(result);
    };
    queue.push(pending);
    pump();
  });
}

/** How many worker threads have been started so far (a new one follows each timeout). */
export function regexThreadsStarted(): number {
  return workersStarted;
}

/** A queued job is forgotten; a running one can only be stopped by ending its thread. */
function giveUp(pending: Pending, result: ThreadMatch): void {
  if (running === pending) {
    running = undefined;
    stopWorker();
  } else {
    const index = queue.indexOf(pending);
    if (index < 0) return;
    queue.splice(index, 1);
  }
  pending.settle(result);
  pump();
}

function pump(): void {
  if (running) return;
  const next = queue.shift();
  if (!next) {
    // Idle: never the reason the process stays alive.
    worker?.unref();
    return;
  }
  running = next;
  try {
    const w = worker ?? startWorker();
    // Busy: someone awaits the answer, so the process must wait for it too.
    w.ref();
    w.postMessage({ id: next.id, pattern: next.job.pattern, flags: next.job.flags, text: next.job.text });
  } catch (err) {
    finish({ status: "failed", message: `could not start the matching thread: ${(err as Error).message}` });
  }
}

function finish(result: ThreadMatch): void {
  const done = running;
  running = undefined;
  done?.settle(result);
  pump();
}

function startWorker(): Worker {
  const w = new Worker(workerSource(pathToFileURL(createRequire(import.meta.url).resolve("re2js")).href), { eval: true });
  workersStarted++;
  worker = w;
  // Events from a thread already replaced are about jobs already settled.
  w.on("message", (message: { id: number; matched?: boolean; error?: string }) => {
    if (w !== worker || running?.id !== message.id) return;
    finish(message.error === undefined ? { status: "done", matched: message.matched === true } : { status: "failed", message: message.error });
  });
  w.on("error", (err) => {
    if (w !== worker) return;
    worker = undefined;
    finish({ status: "failed", message: `the matching thread failed: ${err.message}` });
  });
  w.on("exit", (code) => {
    if (w !== worker) return;
    worker = undefined;
    finish({ status: "failed", message: `the matching thread exited (code ${code})` });
  });
  return w;
}

function stopWorker(): void {
  const w = worker;
  worker = undefined;
  void w?.terminate();
}
