// Every request to the API server goes through `call`: a busy cluster's 429 and 5xx answers are
// retried with backoff (honouring Retry-After), and an error the user must act on becomes a sentence:
// an RBAC 403 names the verb, resource and namespace and the Role rule that would allow it.

import { formatDuration } from "../../contract/duration.js";
import { AdapterError } from "../../errors.js";
import { sleep } from "../../util/abortable.js";
import { mapLimit } from "../../util/map-limit.js";

/** What a request does, in RBAC's words: enough to name the rule a 403 is missing. */
export interface Request {
  verb: "get" | "list" | "create" | "update" | "patch" | "delete" | "deletecollection";
  /** The resource, with its subresource when there is one: "pods/eviction", "deployments/scale". */
  resource: string;
  /** The API group: "" for the core group, "apps", "networking.k8s.io", "policy". */
  group: string;
  namespace?: string;
  name?: string;
}

export class KubeApiError extends AdapterError {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly reason: string | undefined,
  ) {
    super(message);
  }
}

/** What an error from @kubernetes/client-node (ApiException) or the network says. */
interface Seen {
  status?: number;
  reason?: string;
  message: string;
  retryAfterMs?: number;
}

function parseStatus(body: unknown): { message?: string; reason?: string } {
  if (typeof body !== "string") return typeof body === "object" && body !== null ? (body as { message?: string; reason?: string }) : {};
  try {
    return JSON.parse(body) as { message?: string; reason?: string };
  } catch {
    return { message: body.slice(0, 300) };
  }
}

function inspect(err: unknown): Seen {
  const e = err as { code?: unknown; body?: unknown; headers?: Record<string, string>; message?: string; cause?: { code?: string } };
  if (typeof e.code === "number") {
    const status = parseStatus(e.body);
    const retryAfter = Number(e.headers?.["retry-after"] ?? e.headers?.["Retry-After"]);
    return {
      status: e.code,
      ...(status.reason ? { reason: status.reason } : {}),
      message: status.message ?? `HTTP ${e.code}`,
      ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: Math.min(retryAfter, 30) * 1000 } : {}),
    };
  }
  const code = typeof e.code === "string" ? e.code : e.cause?.code;
  return { message: code ? `${code}: ${e.message ?? ""}`.trim() : (e.message ?? String(err)) };
}

const RETRIED_STATUS = new Set([429, 500, 502, 503, 504]);
// Not ETIMEDOUT: a request that went unanswered for REQUEST_TIMEOUT_MS is not a blip to wait out again.
const RETRIED_NETWORK = /^(ECONNRESET|EPIPE|EAI_AGAIN|ECONNREFUSED)\b/;
const MAX_ATTEMPTS = 6;

function describe(req: Request): string {
  const what = `${req.resource}${req.name ? ` "${req.name}"` : ""}`;
  return `${req.verb} ${what}${req.namespace ? ` in namespace ${req.namespace}` : ""}`;
}

/** The Role (or ClusterRole) rule that allows a request, as YAML to paste. */
function ruleFor(req: Request): string {
  const kind = req.namespace ? `Role in namespace ${req.namespace}` : "ClusterRole";
  return `${kind} rule: { apiGroups: ["${req.group}"], resources: ["${req.resource}"], verbs: ["${req.verb}"] }`;
}

function failure(req: Request, seen: Seen, context: string | undefined): KubeApiError {
  const where = context ? ` (context ${context})` : "";
  if (seen.status === 403) {
    return new KubeApiError(`kubernetes: not allowed to ${describe(req)}${where}: ${seen.message}. Grant it with a ${ruleFor(req)}`, 403, seen.reason);
  }
  if (seen.status === 401) return new KubeApiError(`kubernetes: the API server refused chaoscast's credentials${where}: ${seen.message}`, 401, seen.reason);
  const status = seen.status ? ` (HTTP ${seen.status}${seen.reason ? ` ${seen.reason}` : ""})` : "";
  return new KubeApiError(`kubernetes: could not ${describe(req)}${where}${status}: ${seen.message}`, seen.status, seen.reason);
}

/** How long one request may go unanswered: a hung API server (or a black-holed one) is a failure, not a wait. */
export const REQUEST_TIMEOUT_MS = 30_000;

class Interrupted extends Error {}

/** Wait (at most SETTLE_MS) for an abandoned write to end, then fail with `why` whatever it did. */
const SETTLE_MS = 65_000;
async function settleThen<T>(request: Promise<T>, why: Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([request.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, SETTLE_MS)))]);
  clearTimeout(timer);
  throw why;
}

/**
 * The request, or a rejection when it takes longer than `timeoutMs` (not retried) or the signal
 * fires. The client cannot cancel a request itself: a read given up on is left to end on its own, a
 * write is waited for first (see settleThen).
 */
function bounded<T>(send: () => Promise<T>, signal: AbortSignal | undefined, timeoutMs: number, mutating: boolean): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(new Interrupted());
    const request = send();
    // A write given up on may still land after its revert ran ("already gone") and stay for good:
    // wait for it to settle (the API server ends a request after 60 s) before saying it failed.
    const giveUp = (why: Error) => (mutating ? settleThen(request, why) : Promise.reject(why));
    const onAbort = () => finish(() => giveUp(new Interrupted()).then(resolve, reject));
    const timer = setTimeout(() => finish(() => giveUp(Object.assign(new Error(`no answer within ${formatDuration(timeoutMs)}`), { code: "ETIMEDOUT" })).then(resolve, reject)), timeoutMs);
    timer.unref?.();
    function finish(settle: () => void) {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    request.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
  });
}

export interface CallOptions {
  /** How long one attempt may take (default REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  context?: string;
  /** Called before each retry, for progress and journal notes. */
  onRetry?: (message: string) => void;
  /** Base of the exponential backoff, ms (tests shorten it). */
  backoffMs?: number;
}

/**
 * Run one request, retrying what a busy API server asks to be retried. A 404 is returned as
 * `undefined` when `notFoundOk`; every other failure is a KubeApiError with a sentence.
 */
export async function call<T>(req: Request, send: () => Promise<T>, options: CallOptions = {}): Promise<T> {
  const base = options.backoffMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await bounded(send, options.signal, options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, req.verb !== "get" && req.verb !== "list");
    } catch (err) {
      if (err instanceof Interrupted) throw new KubeApiError(`kubernetes: ${describe(req)}: interrupted`, undefined, "Interrupted");
      const seen = inspect(err);
      const retryable = seen.status !== undefined ? RETRIED_STATUS.has(seen.status) : RETRIED_NETWORK.test(seen.message);
      if (!retryable || attempt >= MAX_ATTEMPTS || options.signal?.aborted) throw failure(req, seen, options.context);
      const waitMs = seen.retryAfterMs ?? Math.min(base * 2 ** (attempt - 1), 5_000) * (0.75 + Math.random() * 0.5);
      options.onRetry?.(`${describe(req)}: ${seen.status ? `HTTP ${seen.status}` : seen.message}; retrying in ${Math.round(waitMs)}ms (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`);
      await sleep(waitMs, options.signal);
    }
  }
}

/** `call`, with a 404 answered as undefined: for reads and deletes of what may be gone. */
export async function callOrMissing<T>(req: Request, send: () => Promise<T>, options: CallOptions = {}): Promise<T | undefined> {
  try {
    return await call(req, send, options);
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Items per page of a list: small enough for a busy API server, large enough for few round trips. */
export const PAGE_SIZE = 500;

/** Every item of a list, fetched a page at a time (`limit` + `continue`), as big clusters need. */
export async function listAll<T>(req: Request, page: (cont: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>, options: CallOptions = {}): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const answer = await call(req, () => page(cont), options);
    items.push(...answer.items);
    cont = answer.metadata?._continue || undefined;
  } while (cont);
  return items;
}

export { mapLimit };
