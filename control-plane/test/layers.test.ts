/// <reference types="vite/client" />
// The control plane's layers, read from its sources: imports point down, never back up.
// `core/` imports nothing of the app; `webhooks/` (endpoints and delivery) imports only the
// bottom layer and the link signing, never the Fleet, the monitor or the report.
import { describe, expect, it } from "vitest";

// Vite reads the sources as text at build time, so this needs no file system in workerd.
const sources = import.meta.glob<string>("../src/**/*.{ts,tsx}", {
  query: "?raw",
  import: "default",
  eager: true,
});

/** The relative imports of one source file, resolved to paths under src/ (no extension). */
function importsOf(file: string): string[] {
  const text = sources[file];
  const dir = file.split("/").slice(0, -1);
  const out: string[] = [];
  // `… from "./x"`, a bare `import "./x"` and a dynamic `import("./x")`.
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)"(\.{1,2}\/[^"]+)"/g)) {
    const parts = [...dir];
    for (const seg of m[1].split("/")) {
      if (seg === "..") parts.pop();
      else if (seg !== ".") parts.push(seg);
    }
    out.push(parts.join("/").replace(/^\.\.\/src\//, ""));
  }
  return out;
}

function filesIn(folder: string): string[] {
  return Object.keys(sources).filter((f) => f.startsWith(`../src/${folder}/`));
}

/** Every import of `folder`'s files that `allowed` refuses, as "file → import". */
function violations(folder: string, allowed: (target: string) => boolean): string[] {
  const files = filesIn(folder);
  expect(files.length, `no sources found under src/${folder}`).toBeGreaterThan(0);
  return files.flatMap((f) =>
    importsOf(f)
      .filter((t) => !allowed(t))
      .map((t) => `${f} → ${t}`),
  );
}

describe("layers", () => {
  it("reads the imports it checks", () => {
    // The check must see real imports, or every rule below would pass on nothing.
    expect(importsOf("../src/webhooks/deliver.ts")).toEqual(
      expect.arrayContaining(["core/db", "webhooks/formats", "webhooks/guard"]),
    );
    expect(importsOf("../src/fleet/fleet.ts")).toEqual(expect.arrayContaining(["monitor/pass", "core/db"]));
  });

  it("core/ (db, clock, ids, outbox, timings) imports nothing of the app above it", () => {
    expect(violations("core", (t) => t.startsWith("core/"))).toEqual([]);
  });

  it("webhooks/ imports only itself, the bottom layer, the error type and the link signing", () => {
    const ok = (t: string) =>
      t.startsWith("webhooks/") || t.startsWith("core/") || t === "errors" || t === "actions/links";
    expect(violations("webhooks", ok)).toEqual([]);
  });

  it("the link signing webhooks/ uses stands on the bottom layer alone", () => {
    const links = importsOf("../src/actions/links.ts");
    expect(links.filter((t) => !t.startsWith("core/"))).toEqual([]);
  });

  it("fleet/ does not reach up into the monitor, the webhooks' delivery or the phone actions, but for the Fleet object that wires them", () => {
    const up = (t: string) =>
      t.startsWith("monitor/") || t.startsWith("webhooks/") || t.startsWith("actions/");
    expect(violations("fleet", (t) => !up(t)).filter((v) => !v.startsWith("../src/fleet/fleet.ts "))).toEqual(
      [],
    );
  });
});
