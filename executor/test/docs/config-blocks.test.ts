// Every TOML block in README.md and docs/*.md, loaded through the real config loaders: a whole
// executor config must start as written (given the variables it names), a fragment must load
// merged into one, a CLI config must give a URL and a token. A doc that drifts from the loader
// fails here instead of on a new user's box.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml, stringify as stringifyToml } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { readUserConfig } from "../../src/http/settings";
import { REPO_ROOT } from "../../src/local/control-plane";
import { parseTemporalSettings } from "../../src/temporal/config";

interface Block {
  where: string;
  text: string;
}

/** ```toml fences, indentation of list items removed. */
function tomlBlocks(file: string): Block[] {
  const lines = readFileSync(join(REPO_ROOT, file), "utf8").split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```toml\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i].slice(indent));
    out.push({ where: `${file}:${start}`, text: body.join("\n") });
  }
  return out;
}

const docs = ["README.md", ...readdirSync(join(REPO_ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith(".md"),
);
const blocks = docs.flatMap(tomlBlocks);

type Table = Record<string, unknown>;

/** A fragment is merged into this executor config before it is loaded. */
const BASE: Table = {
  control_plane: "https://mtor.example.workers.dev",
  id: "docs",
  repos: { mtor: { url: "git@github.com:me/mtor.git" } },
  providers: {
    zhipu: {
      base_url: "https://open.bigmodel.cn/api/anthropic",
      token_env: "ZHIPU_API_KEY",
      model: "glm-5.1",
    },
  },
};

function merge(into: Table, from: Table): Table {
  const out: Table = { ...into };
  for (const [k, v] of Object.entries(from)) {
    const prev = out[k];
    out[k] =
      v &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      prev &&
      typeof prev === "object" &&
      !Array.isArray(prev)
        ? merge(prev as Table, v as Table)
        : v;
  }
  return out;
}

/** The environment a reader would set for this config: the secret and every variable it names. */
function envFor(doc: Table): Record<string, string> {
  const env: Record<string, string> = { MTOR_EXECUTOR_SECRET: "docs-secret" };
  const providers = (doc.providers ?? {}) as Record<string, { token_env?: unknown }>;
  for (const p of Object.values(providers)) if (typeof p.token_env === "string") env[p.token_env] = "key";
  if (typeof doc.secret_env === "string") env[doc.secret_env] = "docs-secret";
  return env;
}

const dir = mkdtempSync(join(tmpdir(), "mtor-doc-blocks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("TOML blocks in README.md and docs/", () => {
  it("finds the executor configs the docs show", () => {
    const whole = blocks.filter((b) => /^\s*control_plane\s*=/m.test(b.text)).map((b) => b.where);
    expect(whole).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^README\.md:/),
        expect.stringMatching(/^docs\/executor\.md:/),
      ]),
    );
    expect(blocks.length).toBeGreaterThan(8);
  });

  it.each(blocks.map((b) => [b.where, b] as const))("%s loads", (where, b) => {
    const doc = parseToml(b.text) as Table;
    const keys = Object.keys(doc);
    if (keys.length > 0 && keys.every((k) => k === "url" || k === "token")) {
      // The CLI's ~/.config/mtor/config.toml.
      const file = join(dir, `${where.replace(/[^a-z0-9]/gi, "_")}.toml`);
      writeFileSync(file, b.text);
      const cli = readUserConfig(file);
      expect(cli.url, where).toMatch(/^https?:\/\//);
      expect(cli.token, where).toBeTruthy();
      return;
    }
    const whole = "control_plane" in doc;
    const full = whole ? doc : merge(BASE, doc);
    const config = parseConfig(whole ? b.text : stringifyToml(full), envFor(full), "/etc/mtor");
    if (config.temporal || config.engine === "temporal") {
      expect(
        () => parseTemporalSettings(config.temporal, { TEMPORAL_API_KEY: "k" }, "/etc/mtor"),
        where,
      ).not.toThrow();
    }
  });
});
