// Scrubbing secrets (values read from the environment) from anything that leaves the process, in
// every form a service may echo them back in: raw, JSON-escaped, URL-encoded, base64 and hex.

import { createHash, randomBytes } from "node:crypto";

/** Shorter values would garble ordinary text; they are still never echoed from the experiment. */
export const MIN_SCRUBBED_LENGTH = 4;
const MASK = "***";
/** Where describeValue cut a long string short. */
const CUT_MARKER = '..."';

export type Redactor = <T>(value: T) => T;

/**
 * Text decoded one way, with the range of the original text each of its UTF-16 units came from
 * (undefined: the original text itself), so that a secret found in the decoded text is masked
 * where it was written, however it was escaped.
 */
interface View {
  text: string;
  from?: Int32Array;
  to?: Int32Array;
}

const fromOf = (view: View, i: number) => (view.from ? view.from[i]! : i);
const toOf = (view: View, i: number) => (view.to ? view.to[i]! : i + 1);

/** Builds a decoded view; decoding never lengthens text, so the source's length bounds it. */
class ViewBuilder {
  private readonly units: Uint16Array;
  private readonly from: Int32Array;
  private readonly to: Int32Array;
  private length = 0;
  changed = false;

  constructor(private readonly source: View) {
    const size = source.text.length;
    this.units = new Uint16Array(size);
    this.from = new Int32Array(size);
    this.to = new Int32Array(size);
  }

  /** Source units [start, end) unchanged. */
  copy(start: number, end: number): void {
    const { text, from, to } = this.source;
    for (let i = start; i < end; i++, this.length++) {
      this.units[this.length] = text.charCodeAt(i);
      this.from[this.length] = from ? from[i]! : i;
      this.to[this.length] = to ? to[i]! : i + 1;
    }
  }

  /** Decoded units standing for source units [start, end). */
  decoded(units: string, start: number, end: number): void {
    this.changed = true;
    const first = fromOf(this.source, start);
    const last = toOf(this.source, end - 1);
    for (let k = 0; k < units.length; k++, this.length++) {
      this.units[this.length] = units.charCodeAt(k);
      this.from[this.length] = first;
      this.to[this.length] = last;
    }
  }

  done(): View | undefined {
    if (!this.changed) return undefined;
    let text = "";
    for (let at = 0; at < this.length; at += 8192) text += String.fromCharCode(...this.units.subarray(at, Math.min(at + 8192, this.length)));
    return { text, from: this.from.subarray(0, this.length), to: this.to.subarray(0, this.length) };
  }
}

const JSON_SHORT = new Map([['"', '"'], ["\\", "\\"], ["/", "/"], ["b", "\b"], ["f", "\f"], ["n", "\n"], ["r", "\r"], ["t", "\t"]]);

/**
 * JSON string escapes undone, whichever a service's encoder chose: short ones (\" \\ \/ \n …) and
 * \uXXXX in either case (non-ASCII escaped by Python, <>& by Go). Text around them is kept.
 */
function jsonUnescaped(view: View): View | undefined {
  const s = view.text;
  if (!s.includes("\\")) return undefined;
  const out = new ViewBuilder(view);
  let copied = 0;
  for (let i = s.indexOf("\\"); i >= 0; i = s.indexOf("\\", i)) {
    const short = JSON_SHORT.get(s[i + 1] ?? "");
    const unit = short === undefined && s[i + 1] === "u" ? hexAt(s, i + 2, 4) : undefined;
    const length = short !== undefined ? 2 : unit !== undefined ? 6 : 0;
    if (length === 0) {
      i += 1;
      continue;
    }
    out.copy(copied, i);
    out.decoded(short ?? String.fromCharCode(unit!), i, i + length);
    i += length;
    copied = i;
  }
  out.copy(copied, s.length);
  return out.done();
}

/** The value of hex digit `code` (a UTF-16 unit), or -1. */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

function hexAt(s: string, i: number, digits: number): number | undefined {
  let value = 0;
  for (let k = 0; k < digits; k++) {
    const digit = hexDigit(s.charCodeAt(i + k));
    if (digit < 0) return undefined;
    value = value * 16 + digit;
  }
  return value;
}

const hexByteAt = (s: string, i: number) => (s[i] === "%" ? hexAt(s, i + 1, 2) : undefined);

/** The code point of a complete, well-formed UTF-8 sequence. */
function utf8CodePoint(bytes: number[]): number {
  if (bytes.length === 1) return bytes[0]!;
  let point = bytes[0]! & (0xff >> (bytes.length + 1));
  for (const byte of bytes.slice(1)) point = (point << 6) | (byte & 0x3f);
  return point;
}

/** Percent-encoding undone (UTF-8, either case of hex); with `plusIsSpace`, form encoding too. */
function urlDecoded(view: View, plusIsSpace: boolean): View | undefined {
  const s = view.text;
  const special = plusIsSpace ? /[%+]/g : /%/g;
  if (!special.test(s)) return undefined;
  const out = new ViewBuilder(view);
  let copied = 0;
  special.lastIndex = 0;
  for (let match = special.exec(s); match; match = special.exec(s)) {
    const i = match.index;
    if (s[i] === "+") {
      out.copy(copied, i);
      out.decoded(" ", i, i + 1);
      copied = i + 1;
      continue;
    }
    const lead = hexByteAt(s, i);
    if (lead === undefined) continue;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    const bytes = [lead];
    for (let k = 1; k < length; k++) {
      const next = hexByteAt(s, i + 3 * k);
      if (next === undefined || next < 0x80 || next > 0xbf) break;
      bytes.push(next);
    }
    if (length === 0 || bytes.length !== length) continue;
    const point = utf8CodePoint(bytes);
    // Overlong forms and surrogates are not UTF-8: a decoder would not read them as text either.
    const wellFormed = length < 3 || (length === 3 && point >= 0x800 && (point < 0xd800 || point > 0xdfff)) || (length === 4 && point >= 0x10000 && point <= 0x10ffff);
    if (!wellFormed) continue;
    out.copy(copied, i);
    out.decoded(String.fromCodePoint(point), i, i + 3 * length);
    copied = i + 3 * length;
    special.lastIndex = copied;
  }
  out.copy(copied, s.length);
  return out.done();
}

/**
 * The ways a text may be read: as written, JSON-unescaped (once, and twice for JSON inside a JSON
 * string), URL- or form-decoded (once, and twice for a URL inside a query), and JSON inside a URL
 * or the other way round. Each is computed only when the text holds what it decodes.
 */
function viewsOf(text: string): View[] {
  const views: View[] = [{ text }];
  const add = (view: View | undefined): View | undefined => {
    if (view) views.push(view);
    return view;
  };
  const json = add(jsonUnescaped(views[0]!));
  if (json) {
    add(jsonUnescaped(json));
    add(urlDecoded(json, false));
    add(urlDecoded(json, true));
  }
  const url = add(urlDecoded(views[0]!, false));
  const form = add(urlDecoded(views[0]!, true));
  for (const decoded of [url, form]) {
    if (!decoded) continue;
    add(urlDecoded(decoded, false));
    add(jsonUnescaped(decoded));
  }
  return views;
}

/**
 * The characters of the base64 of `bytes`, preceded by `offset` bytes of other data, that depend on
 * `bytes` alone. Each base64 character carries 6 bits: those whose bits straddle the secret's first
 * or last byte change with what surrounds it, the ones between do not, and they are what is masked.
 */
function base64Core(bytes: Buffer, offset: number, encoding: "base64" | "base64url"): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString(encoding);
  return encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
}

/** How a secret may be written inside decoded text: itself, base64 or base64url at each alignment, hex. */
function needlesOf(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const hex = bytes.toString("hex");
  const needles = [secret, hex, hex.toUpperCase()];
  for (const offset of [0, 1, 2]) needles.push(base64Core(bytes, offset, "base64"), base64Core(bytes, offset, "base64url"));
  return [...new Set(needles)].filter((n) => n.length >= MIN_SCRUBBED_LENGTH);
}

/** `text` with each range replaced; overlapping and touching ranges become one. */
function masked(text: string, ranges: [number, number][]): string {
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  let out = "";
  let at = 0;
  let current = ranges[0]!;
  for (const range of ranges.slice(1)) {
    if (range[0] <= current[1]) current = [current[0], Math.max(current[1], range[1])];
    else {
      out += text.slice(at, current[0]) + MASK;
      at = current[1];
      current = range;
    }
  }
  return out + text.slice(at, current[0]) + MASK + text.slice(current[1]);
}

/**
 * Error messages quote long values cut short (`"…first 57 characters..."`): a cut may fall inside a
 * secret and leave its start, which no whole-secret search finds. Mask any beginning of a secret
 * that ends exactly where a cut does.
 */
function cutPrefixRanges(text: string, needles: readonly string[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (let cut = text.indexOf(CUT_MARKER); cut >= 0; cut = text.indexOf(CUT_MARKER, cut + 1)) {
    for (const needle of needles) {
      for (let length = Math.min(needle.length - 1, cut); length >= 1; length--) {
        if (text.startsWith(needle.slice(0, length), cut - length)) {
          ranges.push([cut - length, cut]);
          break;
        }
      }
    }
  }
  return ranges;
}

export function makeRedactor(secrets: readonly string[]): Redactor {
  const scrubbed = [...new Set(secrets)].filter((s) => s.length >= MIN_SCRUBBED_LENGTH);
  if (scrubbed.length === 0) return (value) => value;
  const needles = [...new Set(scrubbed.flatMap(needlesOf))];
  const shortest = Math.min(...needles.map((n) => n.length));
  const scrubText = (text: string) => {
    if (text.length < shortest) return text;
    const ranges: [number, number][] = [];
    for (const view of viewsOf(text)) {
      for (const needle of needles) {
        for (let i = view.text.indexOf(needle); i >= 0; i = view.text.indexOf(needle, i + 1)) {
          ranges.push([fromOf(view, i), toOf(view, i + needle.length - 1)]);
        }
      }
    }
    ranges.push(...cutPrefixRanges(text, needles));
    return masked(text, ranges);
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return scrubText(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubText(k), walk(v)]));
    }
    return value;
  };
  return <T>(value: T) => walk(value) as T;
}

/**
 * The encodings a state file may hold a secret in, each written as `${env:NAME|encoding}` so that
 * rollback can put back exactly the text that was there. Only encoders with one output per input:
 * the stored text is replaced by a placeholder only where re-encoding reproduces it.
 */
const ENCODINGS = new Map<string, (value: string) => string>([
  ["json", (v) => JSON.stringify(v).slice(1, -1)],
  ["json2", (v) => JSON.stringify(JSON.stringify(v).slice(1, -1)).slice(1, -1)],
  ["url", (v) => encodeURIComponent(v)],
  ["form", (v) => new URLSearchParams([["", v]]).toString().slice(1)],
  ["hex", (v) => Buffer.from(v, "utf8").toString("hex")],
  ...[0, 1, 2].flatMap((offset) => [
    [`base64-${offset}`, (v: string) => base64Core(Buffer.from(v, "utf8"), offset, "base64")] as const,
    [`base64url-${offset}`, (v: string) => base64Core(Buffer.from(v, "utf8"), offset, "base64url")] as const,
  ]),
]);

/**
 * For the state file: replace each secret by an `${env:NAME}` placeholder naming the environment
 * variable it was read from (`${env:NAME|url}` and so on where it was encoded), so the file never
 * holds a secret yet `chaoscast rollback`, run with the same variable set, can undo the fault.
 * Values too short to scrub safely are left alone (as in journals): replacing "1" would rewrite
 * unrelated numbers. The names and values used are added to `used`, so the record can carry a
 * fingerprint that catches a variable changed since the run.
 */
export type SecretProtector = <T>(value: T, used?: Map<string, string>) => T;

export function protectSecrets(sources: Readonly<Record<string, string>>): SecretProtector {
  const replacements: { text: string; secret: string; placeholder: string }[] = [];
  for (const secret of Object.keys(sources).filter((s) => s.length >= MIN_SCRUBBED_LENGTH)) {
    const name = sources[secret]!;
    const seen = new Set<string>();
    const add = (text: string, placeholder: string) => {
      if (text.length < MIN_SCRUBBED_LENGTH || seen.has(text)) return;
      seen.add(text);
      replacements.push({ text, secret, placeholder });
    };
    add(secret, `\${env:${name}}`);
    for (const [encoding, encode] of ENCODINGS) add(encode(secret), `\${env:${name}|${encoding}}`);
  }
  if (replacements.length === 0) return (value) => value;
  const scrubText = (text: string, used: Map<string, string> | undefined) => {
    // One pass over the original text, leftmost and then longest first, so that a placeholder
    // already written is never mistaken for (part of) another encoding.
    const found: { at: number; end: number; replacement: (typeof replacements)[number] }[] = [];
    for (const replacement of replacements) {
      for (let i = text.indexOf(replacement.text); i >= 0; i = text.indexOf(replacement.text, i + 1)) {
        found.push({ at: i, end: i + replacement.text.length, replacement });
      }
    }
    if (found.length === 0) return text;
    found.sort((a, b) => a.at - b.at || b.end - a.end);
    let out = "";
    let at = 0;
    for (const f of found) {
      if (f.at < at) continue;
      out += text.slice(at, f.at) + f.replacement.placeholder;
      at = f.end;
      used?.set(sources[f.replacement.secret]!, f.replacement.secret);
    }
    return out + text.slice(at);
  };
  const walk = (value: unknown, used: Map<string, string> | undefined): unknown => {
    if (typeof value === "string") return scrubText(value, used);
    if (Array.isArray(value)) return value.map((v) => walk(v, used));
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrubText(k, used), walk(v, used)]));
    return value;
  };
  return <T>(value: T, used?: Map<string, string>) => walk(value, used) as T;
}

/** A secret a state record refers to: its variable, and a short salted fingerprint of its value. */
export interface SecretRef {
  name: string;
  salt: string;
  fingerprint: string;
}

function fingerprintOf(value: string, salt: string): string {
  // 24 bits: enough to notice a changed variable, too few to help anyone guess the secret.
  return createHash("sha256").update(`${salt}:${value}`).digest("hex").slice(0, 6);
}

export function secretRefs(used: ReadonlyMap<string, string>): SecretRef[] {
  return [...used].map(([name, value]) => {
    const salt = randomBytes(8).toString("hex");
    return { name, salt, fingerprint: fingerprintOf(value, salt) };
  });
}

/**
 * The inverse, for `chaoscast rollback`: put the variables' values back. Throws, naming the
 * variable, when one is not set or no longer holds the value the run used: undoing with another
 * value could silently act on the wrong thing.
 */
export function restoreSecrets<T>(value: T, refs: readonly SecretRef[], env: NodeJS.ProcessEnv = process.env): T {
  if (refs.length === 0) return value;
  for (const ref of refs) {
    const current = env[ref.name];
    if (current === undefined) throw new Error(`it needs the environment variable ${ref.name}, a secret that is not written to state files; set it and run rollback again`);
    if (fingerprintOf(current, ref.salt) !== ref.fingerprint) throw new Error(`the environment variable ${ref.name} no longer holds the value the run used; set it back and run rollback again`);
  }
  const names = new Set(refs.map((ref) => ref.name));
  const restore = (text: string) =>
    text.replace(/\$\{env:([^}]*)\}/g, (placeholder, inner: string) => {
      if (names.has(inner)) return env[inner]!;
      const bar = inner.lastIndexOf("|");
      const name = inner.slice(0, bar);
      const encode = ENCODINGS.get(inner.slice(bar + 1));
      return bar > 0 && names.has(name) && encode ? encode(env[name]!) : placeholder;
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return restore(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [walk(k) as string, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
