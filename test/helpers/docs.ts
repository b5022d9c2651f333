// The documentation pages, found rather than listed: a new page in docs/ or docs/adapters/ is
// checked by the docs tests the moment it exists.

import { readdirSync, readFileSync } from "node:fs";

export function docPages(): string[] {
  const pages = ["docs", "docs/adapters"].flatMap((dir) =>
    readdirSync(new URL(`../../${dir}`, import.meta.url))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `${dir}/${f}`),
  );
  return ["README.md", ...pages];
}

export function readDoc(page: string): string {
  return readFileSync(new URL(`../../${page}`, import.meta.url), "utf8");
}
