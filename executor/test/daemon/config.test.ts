// The executor's config file: every key, env overrides, and errors that name the key at fault.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../../src/config";

const GOOD = `
control_plane = "https://mtor.example.workers.dev"
id = "ganglion"
key_id = "ganglion"
secret_env = "MTOR_EXECUTOR_SECRET"
capacity = 2
workdir = "/var/lib/mtor"

[repos.mtor]
url = "git@github.com:me/mtor.git"
test = "npm test"

[repos.local]
url = "../repos/local.git"

[providers.zhipu]
base_url = "https://open.bigmodel.cn/api/anthropic"
token_env = "ZHIPU_API_KEY"
model = "glm-5.1"
harness = "claude"

[providers.goose]
base_url = "http://127.0.0.1:9000"
token_env = "GOOSE_KEY"
model = "m"
harness = "goose"

[harnesses.goose]
command = ["goose", "run", "-t", "{prompt}"]

[temporal]
address = "127.0.0.1:7233"
`;
const ENV = { MTOR_EXECUTOR_SECRET: "s3cret", ZHIPU_API_KEY: "zk", GOOSE_KEY: "gk" };

function problems(text: string, env: Record<string, string> = ENV): string[] {
  try {
    parseConfig(text, env, "/etc/mtor");
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("config was accepted");
}

describe("executor config", () => {
  it("reads every key of the documented config", () => {
    const c = parseConfig(GOOD, ENV, "/etc/mtor");
    expect(c.controlPlane).toBe("https://mtor.example.workers.dev");
    expect(c.id).toBe("ganglion");
    expect(c.keyId).toBe("ganglion");
    expect(c.secret).toBe("s3cret");
    expect(c.capacity).toBe(2);
    expect(c.workdir).toBe("/var/lib/mtor");
    expect(c.engine).toBe("local");
    expect(c.repos.mtor).toEqual({
      name: "mtor",
      url: "git@github.com:me/mtor.git",
      test: "npm test",
      base: undefined,
    });
    expect(c.repos.local.url).toBe("/etc/repos/local.git");
    expect(c.providers.zhipu).toMatchObject({
      baseUrl: "https://open.bigmodel.cn/api/anthropic",
      token: "zk",
      model: "glm-5.1",
      harness: "claude",
    });
    expect(c.harnesses.goose.command).toEqual(["goose", "run", "-t", "{prompt}"]);
    expect(c.temporal).toEqual({ address: "127.0.0.1:7233" });
    expect(c.heartbeatMs).toBe(30_000);
  });

  it("takes MTOR_URL, MTOR_EXECUTOR_ID, MTOR_KEY_ID and MTOR_EXECUTOR_SECRET from the environment", () => {
    const c = parseConfig(GOOD, {
      ...ENV,
      MTOR_URL: "http://127.0.0.1:8787/",
      MTOR_EXECUTOR_ID: "box-2",
      MTOR_KEY_ID: "k2",
      MTOR_EXECUTOR_SECRET: "other",
    });
    expect(c.controlPlane).toBe("http://127.0.0.1:8787");
    expect(c.id).toBe("box-2");
    expect(c.keyId).toBe("k2");
    expect(c.secret).toBe("other");
  });

  it("takes every other top-level key from MTOR_<KEY> (every key overridable by env)", () => {
    const c = parseConfig(GOOD, {
      ...ENV,
      MTOR_CAPACITY: "4",
      MTOR_WORKDIR: "/srv/mtor",
      MTOR_ENGINE: "temporal",
      MTOR_HEARTBEAT_S: "10",
      MTOR_CONTROL_PLANE: "http://127.0.0.1:9999",
      MTOR_ID: "box-3",
    });
    expect(c.capacity).toBe(4);
    expect(c.workdir).toBe("/srv/mtor");
    expect(c.engine).toBe("temporal");
    expect(c.heartbeatMs).toBe(10_000);
    expect(c.controlPlane).toBe("http://127.0.0.1:9999");
    expect(c.id).toBe("box-3");
    // The documented names win over the generic ones.
    const named = parseConfig(GOOD, { ...ENV, MTOR_ID: "box-3", MTOR_EXECUTOR_ID: "box-4" });
    expect(named.id).toBe("box-4");
    // A bad override is named like a bad key.
    expect(problems(GOOD, { ...ENV, MTOR_CAPACITY: "lots" })).toEqual([expect.stringMatching(/^capacity: /)]);
  });

  it("refuses a provider with no token_env, naming the key (the demo provider needs one too)", () => {
    const text = GOOD.replace('token_env = "GOOSE_KEY"\n', "");
    expect(problems(text)).toEqual([
      "providers.goose.token_env: is required (the environment variable that holds the provider's API key)",
    ]);
  });

  it('runs harnesses in the bwrap sandbox unless the config says sandbox = "none"', () => {
    expect(parseConfig(GOOD, ENV).sandbox).toBe("bwrap");
    expect(parseConfig(`sandbox = "none"\n${GOOD}`, ENV).sandbox).toBe("none");
    expect(parseConfig(GOOD, { ...ENV, MTOR_SANDBOX: "none" }).sandbox).toBe("none");
    expect(() => parseConfig(`sandbox = "off"\n${GOOD}`, ENV)).toThrow(/sandbox: must be "bwrap" or "none"/);
  });

  it("names the key of a bad URL", () => {
    expect(problems(GOOD.replace("https://open.bigmodel.cn/api/anthropic", "not a url"))).toContain(
      "providers.zhipu.base_url: must be a URL",
    );
    expect(problems(GOOD.replace('"https://mtor.example.workers.dev"', '"ftp://x"'))).toContain(
      "control_plane: must be a URL",
    );
  });

  it("names a missing token env and a missing secret", () => {
    expect(problems(GOOD, { MTOR_EXECUTOR_SECRET: "s" })).toContain(
      "providers.zhipu.token_env: environment variable ZHIPU_API_KEY is not set",
    );
    expect(problems(GOOD, { ZHIPU_API_KEY: "zk" })[0]).toMatch(
      /^secret_env: environment variable MTOR_EXECUTOR_SECRET is not set/,
    );
  });

  it("names missing, unknown and mistyped keys", () => {
    expect(problems(GOOD.replace('id = "ganglion"\n', ""))).toContain("id: is required");
    expect(problems(GOOD.replace("capacity = 2", 'capacity = "two"'))[0]).toMatch(/^capacity: /);
    expect(problems(GOOD.replace("capacity = 2", "capacity = 0"))).toContain("capacity: must be at least 1");
    expect(problems(`engine = "docker"\n${GOOD}`)).toContain('engine: must be "local" or "temporal"');
    expect(problems(GOOD.replace('model = "glm-5.1"', 'model = "glm-5.1"\nbase = "x"'))).toContain(
      "providers.zhipu.base: unknown key",
    );
    expect(problems(GOOD.replace('model = "glm-5.1"\n', ""))).toContain("providers.zhipu.model: is required");
    expect(problems(GOOD.replace('harness = "goose"', 'harness = "aider"'))[0]).toMatch(
      /^providers.goose.harness: unknown harness "aider"/,
    );
    expect(problems(GOOD.replace('url = "git@github.com:me/mtor.git"', "url = 3"))[0]).toMatch(
      /^repos.mtor.url: /,
    );
  });

  it("refuses invalid TOML with the parser's message", () => {
    expect(problems("control_plane = \n")[0]).toMatch(/^invalid TOML: /);
  });

  it("names the file it cannot read", () => {
    expect(() => loadConfig("/nonexistent/executor.toml")).toThrow(/executor.toml: cannot read: ENOENT/);
  });

  it("resolves relative paths against the config file's directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "mtor-config-"));
    const file = join(dir, "executor.toml");
    writeFileSync(file, GOOD.replace('workdir = "/var/lib/mtor"', 'workdir = "state"'));
    const c = loadConfig(file, ENV);
    expect(c.workdir).toBe(join(dir, "state"));
    expect(c.repos.local.url).toBe(join(dir, "..", "repos", "local.git"));
  });
});

describe("executor config, all at once", () => {
  it("names a missing token env alongside other problems, so one try shows them all", () => {
    const text = GOOD.replace("https://open.bigmodel.cn/api/anthropic", "open.bigmodel.cn");
    expect(problems(text, { MTOR_EXECUTOR_SECRET: "s", GOOSE_KEY: "gk" })).toEqual([
      "providers.zhipu.base_url: must be a URL",
      "providers.zhipu.token_env: environment variable ZHIPU_API_KEY is not set",
    ]);
  });
});
