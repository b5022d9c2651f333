// docker.netem: latency, loss and a rate limit on what a container sends, set with `tc` from a
// helper container that shares the target's network namespace (the target needs no tools and no
// privileges of its own). Latency and loss need the kernel's netem qdisc; a rate alone uses tbf,
// which every kernel has. Preflight proves the qdisc exists by adding it in a throw-away namespace,
// so a host without netem fails the run before any fault is injected.

import { z } from "zod";
import { AdapterError } from "../../errors.js";
import { defineAction, defineRevert, revertWith } from "../../contract/adapter.js";
import { DurationSchema, PercentSchema } from "../../contract/common-schemas.js";
import { dockerEngine, engineError } from "./client.js";
import { containerOf, runningState } from "./checks.js";
import { requireImage, runHelper, type HelperOutcome } from "./helper.js";
import { ContainerDataSchema, inspectContainer, waitForContainer } from "./reverts.js";
import type { ContainerData } from "./targets.js";

/**
 * A handle of its own for each fault's root qdisc, recorded with the revert before it is added, so
 * a revert removes only the shaping that fault made (never another run's, nor one made after a
 * restart). Four hex digits, as tc prints them.
 */
export function shapingHandle(): string {
  return `${(0x1000 + Math.floor(Math.random() * 0xeffe)).toString(16)}:`;
}
/** The handle of the root qdisc a kernel sets up by itself: replacing it takes nothing from anyone. */
const KERNEL_DEFAULT_HANDLE = "0:";
const DEFAULT_HELPER_IMAGE = "gaiadocker/iproute2";

const RATE = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit)$/i;
const BYTE_RATE = /^(\d+(?:\.\d+)?)(k|m|g)?bps$/i;
/** tc reads "bps" as bytes per second: say what that is in bits rather than guess. */
function rateMessage(input: unknown): string {
  const bytes = typeof input === "string" ? BYTE_RATE.exec(input) : null;
  const unit = { k: "kilo", m: "mega", g: "giga" }[(bytes?.[2] ?? "").toLowerCase() as "k"] ?? "";
  const hint = bytes ? `; to tc "${input}" means ${bytes[1]} ${unit}bytes per second, which is ${Number(bytes[1]) * 8}${(bytes[2] ?? "").toLowerCase()}bit` : "";
  return `expected a rate in bits per second such as "500kbit", "2mbit" or "1gbit"${hint}`;
}
const RateSchema = z
  .string()
  .regex(RATE, { error: (iss) => rateMessage(iss.input) })
  .transform((text) => {
    const [, amount, unit] = RATE.exec(text)!;
    return Math.round(Number(amount) * { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 }[unit!.toLowerCase() as "bit"]);
  })
  .refine((bits) => bits >= 8_000, { message: "a rate below 8kbit would stall even a single packet for seconds" });

export const NetemParamsSchema = z
  .object({
    latency: DurationSchema.refine((ms) => ms >= 1, { message: "expected at least 1ms" }).optional().meta({ description: "Delay added to every packet the container sends." }),
    jitter: DurationSchema.optional().meta({ description: "Random variation of the delay (needs latency)." }),
    loss: PercentSchema.refine((p) => p > 0, { message: "expected a loss above 0%" }).optional().meta({ description: "Share of sent packets dropped, e.g. 5%." }),
    rate: RateSchema.optional().meta({ description: 'Bandwidth cap on what it sends, e.g. "2mbit".' }),
    device: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]{1,15}$/, { error: "expected a network interface name such as eth0" })
      .default("eth0")
      .meta({ description: "The interface inside the container." }),
    image: z.string().min(1).default(DEFAULT_HELPER_IMAGE).meta({ description: "A local image with iproute2 (tc and ip) for the helper container; never pulled." }),
  })
  .strict()
  .refine((p) => p.latency !== undefined || p.loss !== undefined || p.rate !== undefined, { message: "give latency, loss, rate or a combination" })
  .refine((p) => p.jitter === undefined || p.latency !== undefined, { message: "jitter needs a latency to vary", path: ["jitter"] });

export type NetemParams = z.output<typeof NetemParamsSchema>;

/** netem when latency or loss is asked for; a rate on its own is tbf's job. */
export function qdiscKind(params: NetemParams): "netem" | "tbf" {
  return params.latency !== undefined || params.loss !== undefined ? "netem" : "tbf";
}

/** The `tc qdisc add` arguments after `root handle …`. */
export function qdiscArguments(params: NetemParams, mtu: number): string[] {
  if (qdiscKind(params) === "tbf") {
    // A packet larger than the bucket is never sent, so the bucket holds at least one MTU (plus
    // link headers) and 20 ms at the rate; 400 ms of queue before packets are dropped.
    const burst = Math.max(mtu + 1024, Math.ceil(params.rate! / 8 / 50));
    return ["tbf", "rate", `${params.rate}bit`, "burst", String(burst), "latency", "400ms"];
  }
  const args = ["netem"];
  if (params.latency !== undefined) args.push("delay", `${params.latency}ms`, ...(params.jitter ? [`${params.jitter}ms`] : []));
  if (params.loss !== undefined) args.push("loss", `${params.loss}%`);
  if (params.rate !== undefined) args.push("rate", `${params.rate}bit`);
  return args;
}

const tcIn = (data: ContainerData, image: string, argv: [string, ...string[]]) =>
  runHelper({ image, argv, networkMode: `container:${data.id}`, capAdd: ["NET_ADMIN"], purpose: "docker.netem" });

function failure(outcome: HelperOutcome): string {
  return (outcome.stderr || outcome.stdout).trim().split("\n").slice(-3).join("; ") || `exit code ${outcome.exitCode}`;
}

interface RootQdisc {
  kind: string;
  handle: string;
}

/**
 * The root qdisc of `device`, from tc's text output (`qdisc <kind> <handle> root …`), which every
 * iproute2 prints alike (`-j` needs 4.13+). A device always has one, if only `noqueue`: output
 * without it was not read, and must not pass for "nothing there".
 */
export function parseRootQdisc(text: string): RootQdisc | undefined {
  const match = /^qdisc (\S+) ([0-9a-f]+:)\S* root\b/m.exec(text);
  return match ? { kind: match[1]!, handle: match[2]! } : undefined;
}

async function rootQdisc(data: ContainerData, image: string, device: string): Promise<RootQdisc> {
  const shown = await tcIn(data, image, ["tc", "qdisc", "show", "dev", device]);
  if (shown.exitCode !== 0) throw new AdapterError(`docker.netem: reading the qdiscs of ${device} in container ${data.name} failed: ${failure(shown)}`);
  const root = parseRootQdisc(shown.stdout);
  if (!root) throw new AdapterError(`docker.netem: tc showed no root qdisc for ${device} in container ${data.name} (output: ${JSON.stringify(shown.stdout.slice(0, 200))})`);
  return root;
}

/** Interfaces and their MTUs from `ip -o link show` (one line each: `2: eth0@if9: <…> mtu 1500 …`). */
export function parseInterfaces(text: string): { ifname: string; mtu: number }[] {
  return [...text.matchAll(/^\d+:\s+([^:@\s]+)(?:@[^:\s]*)?:\s+<[^>]*>\s+mtu\s+(\d+)/gm)].map((m) => ({ ifname: m[1]!, mtu: Number(m[2]) }));
}

/** Checks the target can be shaped and returns its device's MTU; throws what stands in the way. */
async function shapeableMtu(data: ContainerData, params: NetemParams): Promise<number> {
  await runningState(data, "docker.netem");
  let networkMode: string;
  try {
    networkMode = (await (await dockerEngine()).getContainer(data.id).inspect()).HostConfig.NetworkMode ?? "default";
  } catch (err) {
    throw engineError(`inspecting container ${data.name}`, err);
  }
  if (networkMode === "host") {
    throw new AdapterError(`container ${data.name} uses the host's network namespace; shaping it would slow the whole host, so docker.netem refuses`);
  }
  if (networkMode.startsWith("container:")) {
    throw new AdapterError(`container ${data.name} shares the network of ${networkMode.slice("container:".length)}; shape that container instead (its traffic is the same)`);
  }
  await requireImage(params.image, "docker.netem");
  const links = await tcIn(data, params.image, ["ip", "-o", "link", "show"]);
  if (links.exitCode !== 0) throw new AdapterError(`docker.netem: listing the interfaces of container ${data.name} failed: ${failure(links)}`);
  const interfaces = parseInterfaces(links.stdout);
  const found = interfaces.find((i) => i.ifname === params.device);
  if (!found) throw new AdapterError(`container ${data.name} has no interface ${params.device}; it has: ${interfaces.map((i) => i.ifname).join(", ") || "none"}`);
  const root = await rootQdisc(data, params.image, params.device);
  if (root.handle !== KERNEL_DEFAULT_HANDLE) {
    throw new AdapterError(
      `${params.device} in container ${data.name} already has a ${root.kind} root qdisc (handle ${root.handle}) that is not the kernel's default; chaoscast will not replace it (if an earlier run left it, \`chaoscast rollback\` removes it)`,
    );
  }
  return found.mtu;
}

/**
 * Whether the Docker host's kernel has the qdisc: added to `lo` in a helper's own empty network
 * namespace, which is thrown away with the helper.
 */
async function requireQdisc(kind: "netem" | "tbf", image: string): Promise<void> {
  const trial = kind === "netem" ? ["netem", "delay", "1ms"] : ["tbf", "rate", "1mbit", "burst", "70000", "latency", "50ms"];
  const outcome = await runHelper({ image, argv: ["tc", "qdisc", "add", "dev", "lo", "root", ...trial], networkMode: "none", capAdd: ["NET_ADMIN"], purpose: "docker.netem" });
  if (outcome.exitCode === 0) return;
  if (/qdisc kind is unknown|No such file or directory/i.test(outcome.stderr)) {
    throw new AdapterError(
      kind === "netem"
        ? "the Docker host's kernel has no netem qdisc (sch_netem; CONFIG_NET_SCH_NETEM), so latency and loss cannot be added there; nothing was changed. Load it with `modprobe sch_netem` or use a kernel built with it; a `rate` on its own works without netem."
        : "the Docker host's kernel has no tbf qdisc (sch_tbf), so a rate cannot be set there; nothing was changed.",
    );
  }
  throw new AdapterError(`docker.netem: trying ${kind} in a helper container failed: ${failure(outcome)}`);
}

const ShapingRevertData = ContainerDataSchema.extend({ device: z.string(), image: z.string(), handle: z.string().regex(/^[0-9a-f]{1,4}:$/) });

export const removeShapingRevert = defineRevert({
  kind: "docker.remove-shaping",
  data: ShapingRevertData,
  describe: (data) => `remove the traffic shaping on ${data.device} of container ${data.name}`,
  async run(data, ctx) {
    // A container in restart backoff has no namespace to join yet; what it comes back with is fresh.
    await waitForContainer(data, (s) => !s?.restarting, 10_000);
    const state = await inspectContainer(data);
    if (!state?.running) {
      // Its network namespace went with it; a started container gets a fresh one.
      ctx.note(`container ${data.name} is ${state ? state.status : "gone"}; its shaping went with its network namespace`);
      return;
    }
    const root = await rootQdisc(data, data.image, data.device);
    if (root.handle !== data.handle) {
      ctx.note(`${data.device} of container ${data.name} does not carry this fault's shaping (root is ${root.kind} ${root.handle}); nothing to undo`);
      return;
    }
    const removed = await tcIn(data, data.image, ["tc", "qdisc", "del", "dev", data.device, "root", "handle", data.handle]);
    if (removed.exitCode !== 0) throw new AdapterError(`removing the shaping on ${data.device} of container ${data.name} failed: ${failure(removed)}`);
  },
  async verify(data) {
    const state = await inspectContainer(data);
    if (!state?.running || state.restarting) return null;
    const root = await rootQdisc(data, data.image, data.device);
    return root.handle === data.handle ? `${data.device} of container ${data.name} is still shaped (${root.kind} ${root.handle})` : null;
  },
});

export const netem = defineAction({
  name: "docker.netem",
  description:
    "Add latency (with jitter), packet loss and/or a rate limit to what the container sends, with tc from a helper container in its network namespace. Latency and loss need the kernel's netem; a rate alone uses tbf. Reverted by removing the qdisc.",
  target: "docker",
  reversible: "always",
  params: NetemParamsSchema,
  example: { latency: "200ms", jitter: "50ms", loss: "2%", image: "nicolaka/netshoot" },
  async preflight(params, target) {
    const data = await containerOf(target, "docker.netem");
    await shapeableMtu(data, params);
    await requireQdisc(qdiscKind(params), params.image);
  },
  async prepare(params, target) {
    const data = await containerOf(target, "docker.netem");
    const mtu = await shapeableMtu(data, params);
    const handle = shapingHandle();
    return {
      revert: revertWith(removeShapingRevert, { ...data, device: params.device, image: params.image, handle }),
      async apply() {
        const added = await tcIn(data, params.image, ["tc", "qdisc", "add", "dev", params.device, "root", "handle", handle, ...qdiscArguments(params, mtu)]);
        if (added.exitCode !== 0) {
          if (/qdisc kind is unknown/i.test(added.stderr)) throw new AdapterError(`the Docker host's kernel has no ${qdiscKind(params)} qdisc; nothing was changed`);
          throw new AdapterError(`docker.netem on container ${data.name} failed: ${failure(added)}`);
        }
        const root = await rootQdisc(data, params.image, params.device);
        if (root.handle !== handle || root.kind !== qdiscKind(params)) {
          throw new AdapterError(`docker.netem: ${params.device} of container ${data.name} does not show the ${qdiscKind(params)} qdisc after adding it`);
        }
      },
    };
  },
});
