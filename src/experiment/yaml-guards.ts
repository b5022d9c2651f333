// Checks every chaoscast YAML reader (experiments, policy files, proxy configs) applies before it
// turns a parsed document into data: YAML 1.2 only, and aliases bounded by the size of what they
// expand into, not merely by how many there are.

import { isAlias, isCollection, isDocument, isPair, isScalar, type Document } from "yaml";

export interface YamlGuardProblem {
  /** Offset in the text, for line:col. */
  offset: number;
  message: string;
}

/**
 * `%YAML 1.1` switches the parser to YAML 1.1, which brings back what chaoscast's formats forbid:
 * merge keys (<<), yes/no/on/off as booleans, 0777 as an octal number, 1:20 as a sexagesimal one.
 */
export function versionDirectiveProblem(doc: Document, text: string): YamlGuardProblem | undefined {
  const directive = doc.directives?.yaml;
  if (!directive?.explicit || directive.version === "1.2") return undefined;
  const at = /^%YAML\b/m.exec(text);
  return {
    offset: at?.index ?? 0,
    message: `%YAML ${directive.version} is not accepted: chaoscast reads YAML 1.2 only (1.1 would bring back merge keys and yes/no/on/off as booleans); remove the directive`,
  };
}

/**
 * The size (in characters, roughly as JSON) of the data the document expands into, with aliases
 * expanded, or `Infinity` once it passes `cap` or an alias repeats its own anchor. Linear in the
 * document's nodes: each node's size is computed once. Iterative: no depth can exhaust the stack.
 */
export function expandedSize(doc: Document, cap: number): number {
  const memo = new Map<object, number>();
  const open = new Set<object>();
  const childrenOf = (node: object): unknown[] => {
    if (isDocument(node)) return [node.contents];
    if (isAlias(node)) return [node.resolve(doc)];
    if (isPair(node)) return [node.key, node.value];
    if (isCollection(node)) return node.items;
    return [];
  };
  const ownSize = (node: object): number => (isScalar(node) ? String(node.value ?? "").length + 1 : isCollection(node) ? 2 : isPair(node) ? 1 : 0);
  const stack: { node: object; expanded: boolean }[] = [{ node: doc, expanded: false }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (memo.has(frame.node)) {
      stack.pop();
      continue;
    }
    const children = childrenOf(frame.node).filter((c): c is object => c !== null && typeof c === "object");
    if (!frame.expanded) {
      if (open.has(frame.node)) return Infinity; // an alias inside the anchor it repeats
      open.add(frame.node);
      frame.expanded = true;
      for (const child of children) if (!memo.has(child)) stack.push({ node: child, expanded: false });
      continue;
    }
    let size = ownSize(frame.node);
    for (const child of children) size += memo.get(child) ?? Infinity;
    memo.set(frame.node, Math.min(size, cap + 1));
    open.delete(frame.node);
    stack.pop();
    if (size > cap) return Infinity;
  }
  return memo.get(doc) ?? 0;
}

/** A problem when the document's aliases expand into more than `cap` characters of data. */
export function expansionProblem(doc: Document, cap: number, firstAlias: number | undefined): YamlGuardProblem | undefined {
  if (firstAlias === undefined) return undefined;
  if (expandedSize(doc, cap) <= cap) return undefined;
  return { offset: firstAlias, message: `the aliases (*name) in this file expand into more than ${Math.round(cap / 1024)} KiB of data; write the values out instead` };
}

/** Offset of the first alias node, if the document has one. */
export function firstAliasOffset(doc: Document): number | undefined {
  let found: number | undefined;
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!node || typeof node !== "object") continue;
    if (isAlias(node)) {
      const start = node.range?.[0] ?? 0;
      found = found === undefined ? start : Math.min(found, start);
      continue;
    }
    if (isPair(node)) stack.push(node.key, node.value);
    else if (isCollection(node)) stack.push(...node.items);
  }
  return found;
}
