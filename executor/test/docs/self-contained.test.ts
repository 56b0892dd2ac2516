// The docs, the deploy files, CLI help and code comments say what they mean: none of them cites
// "the design §N", a document that is not in the repository.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/local/control-plane";

const SKIP = new Set(["node_modules", ".wrangler", ".mtor", "dist", ".git"]);

function files(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path, keep));
    else if (keep(name)) out.push(path);
  }
  return out;
}

const code = (n: string) => /\.(ts|tsx|js|md|toml|sh|service)$/.test(n);
const roots = ["docs", "deploy", "schema", "control-plane", "executor", "bench", ".ci"];
const checked = [
  ...["README.md", "fly.toml", "wrangler.toml", "package.json"].map((f) => join(REPO_ROOT, f)),
  ...roots.flatMap((r) => files(join(REPO_ROOT, r), (n) => code(n) || n === "run")),
];

// "design §4", "(§5.2)", "the design's API"; RFC sections ("RFC 9421 §2.5") are fine.
const CITATION = /design\s*(§|\(§|'s (contract|API|names|reasons))|(?<!RFC \d+ )(?<!RFC \d+, )§\s*\d/;

describe("no citations of a document the repository does not have", () => {
  it("scans the docs and the code", () => {
    expect(checked.length).toBeGreaterThan(100);
  });

  it("no file cites 'the design §N'", () => {
    const hits: string[] = [];
    for (const file of checked) {
      if (file === __filename) continue;
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (CITATION.test(line)) hits.push(`${relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(hits).toEqual([]);
  });
});

describe("wrangler commands in the docs", () => {
  it("every secret put, deploy, rollback and tail names --env production", () => {
    const docs = [
      "README.md",
      ...readdirSync(join(REPO_ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
    ];
    const loose: string[] = [];
    for (const doc of docs) {
      const text = readFileSync(join(REPO_ROOT, doc), "utf8").replace(
        / --env\s*\n\s*production/g,
        " --env production",
      );
      for (const m of text.matchAll(/wrangler (secret put|secret delete|deploy|rollback|tail)\b[^\n`]*/g)) {
        if (/--dry-run/.test(m[0]) || /--env production/.test(m[0])) continue;
        loose.push(`${doc}: ${m[0]}`);
      }
    }
    expect(loose).toEqual([]);
  });
});
