// The production files (issue 9): docker build cannot run in CI, so this checks what it can
// without one — every path executor/Dockerfile copies exists, fly.toml builds that Dockerfile and
// mounts the workdir the shipped config uses, the config loads, the systemd unit runs the same
// command, and wrangler.toml's production environment has everything the Worker needs.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config";
import { REPO_ROOT } from "../../src/local/control-plane";

const read = (rel: string) => readFileSync(join(REPO_ROOT, rel), "utf8");
const DOCKERFILE = "executor/Dockerfile";

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** COPY/ADD sources (build-context paths); copies from other stages are not the context's. */
function copySources(ins: Instruction[]): string[] {
  const out: string[] = [];
  for (const i of ins.filter((x) => x.op === "COPY" || x.op === "ADD")) {
    const words = i.args.startsWith("[") ? (JSON.parse(i.args) as string[]) : i.args.split(/\s+/);
    if (words.some((w) => w.startsWith("--from="))) continue;
    const paths = words.filter((w) => !w.startsWith("--"));
    out.push(...paths.slice(0, -1));
  }
  return out;
}

const dockerfile = instructions(read(DOCKERFILE));
// Parsed TOML is walked by key in the assertions below; a missing key fails the test that reads it.
// biome-ignore lint/suspicious/noExplicitAny: untyped config documents
type Toml = Record<string, any>;
const fly = parseToml(read("fly.toml")) as Toml;
const wrangler = parseToml(read("wrangler.toml")) as Toml;
const rootPkg = JSON.parse(read("package.json")) as { workspaces: string[]; scripts: Record<string, string> };

describe("executor/Dockerfile", () => {
  it("copies only paths that exist in the repository", () => {
    const sources = copySources(dockerfile);
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(src.includes("*") || src.includes(".."), src).toBe(false);
      expect(existsSync(join(REPO_ROOT, src)), `${DOCKERFILE} copies ${src}, which does not exist`).toBe(
        true,
      );
    }
  });

  it("copies every workspace's manifest and the lockfile before `npm ci`, and the executor's code after", () => {
    const npmCi = dockerfile.findIndex((i) => i.op === "RUN" && /\bnpm ci\b/.test(i.args));
    expect(npmCi).toBeGreaterThan(0);
    const before = copySources(dockerfile.slice(0, npmCi));
    for (const ws of rootPkg.workspaces) expect(before, ws).toContain(`${ws}/package.json`);
    expect(before).toContain("package-lock.json");
    const after = copySources(dockerfile.slice(npmCi));
    for (const dir of ["schema/", "executor/"]) expect(after).toContain(dir);
    // The executor imports its TypeScript through tsx at run time; the base tsconfig comes along.
    expect(after).toContain("tsconfig.base.json");
  });

  it("is Node 20 with git and CA certificates, installs from the lockfile and runs mtor executor with the config", () => {
    expect(dockerfile[0]).toEqual({ op: "FROM", args: expect.stringMatching(/^node:20[.-]/) });
    const apt = dockerfile.find((i) => i.op === "RUN" && /apt-get install/.test(i.args))?.args ?? "";
    for (const pkg of ["git", "ca-certificates", "openssh-client", "tini"])
      expect(apt.split(/\s+/)).toContain(pkg);
    expect(dockerfile.some((i) => i.op === "RUN" && /\bnpm ci --omit=dev\b/.test(i.args))).toBe(true);
    expect(dockerfile.some((i) => i.op === "RUN" && /\bnpm install\b(?! -g npm@)/.test(i.args))).toBe(false);
    const cmd = JSON.parse(dockerfile.find((i) => i.op === "CMD")?.args ?? "[]") as string[];
    expect(cmd).toEqual(["mtor", "executor", "--config", "/etc/mtor/executor.toml"]);
    const volume = dockerfile.find((i) => i.op === "VOLUME")?.args;
    expect(volume).toBe("/var/lib/mtor");
  });

  it("checks at build time that the harness CLIs start, and those CLIs are pinned by the lockfile for x64 and arm64", () => {
    const checks = dockerfile
      .filter((i) => i.op === "RUN")
      .map((i) => i.args)
      .join("\n");
    expect(checks).toMatch(/claude --version/);
    expect(checks).toMatch(/opencode --version/);
    const deps = (JSON.parse(read("executor/package.json")) as { dependencies: Record<string, string> })
      .dependencies;
    const lock = JSON.parse(read("package-lock.json")) as { packages: Record<string, { version?: string }> };
    for (const name of ["@anthropic-ai/claude-code", "opencode-ai"]) {
      expect(deps[name], name).toBeDefined();
      expect(lock.packages[`node_modules/${name}`]?.version, `${name} in the lockfile`).toBeDefined();
    }
  });

  it("the lockfile holds both harnesses' linux-x64 and linux-arm64 binaries, at the harness's own version", () => {
    const lock = JSON.parse(read("package-lock.json")) as {
      packages: Record<string, { version?: string; os?: string[]; cpu?: string[] }>;
    };
    const harnesses = [
      {
        pkg: "@anthropic-ai/claude-code",
        platform: (arch: string) => `@anthropic-ai/claude-code-linux-${arch}`,
      },
      { pkg: "opencode-ai", platform: (arch: string) => `opencode-linux-${arch}` },
    ];
    for (const { pkg, platform } of harnesses) {
      const version = lock.packages[`node_modules/${pkg}`]?.version;
      expect(version, `${pkg} in the lockfile`).toBeDefined();
      for (const arch of ["x64", "arm64"]) {
        const entry = lock.packages[`node_modules/${platform(arch)}`];
        expect(entry, `${platform(arch)} in the lockfile (the ${arch} box's ${pkg} binary)`).toBeDefined();
        expect(entry?.version, `${platform(arch)} at ${pkg}'s version`).toBe(version);
        expect(entry?.os).toEqual(["linux"]);
        expect(entry?.cpu).toEqual([arch]);
      }
    }
  });

  it("installs bubblewrap, the sandbox every harness runs in", () => {
    const apt = dockerfile.find((i) => i.op === "RUN" && /apt-get install/.test(i.args))?.args ?? "";
    expect(apt.split(/\s+/)).toContain("bubblewrap");
  });

  it("starts through an entry point that exists, is executable and drops to the mtor user", () => {
    const entry = JSON.parse(dockerfile.find((i) => i.op === "ENTRYPOINT")?.args ?? "[]") as string[];
    expect(entry[0]).toBe("/usr/bin/tini");
    const script = "deploy/container-entrypoint.sh";
    expect(copySources(dockerfile)).toContain(script);
    expect(statSync(join(REPO_ROOT, script)).mode & 0o111).not.toBe(0);
    expect(read(script)).toMatch(/exec setpriv --reuid=mtor/);
  });

  it("never puts local secrets or host node_modules in the build context", () => {
    for (const file of [".dockerignore", "executor/Dockerfile.dockerignore"]) {
      const lines = read(file).split("\n");
      for (const p of ["**/.dev.vars", "**/node_modules", "**/.mtor"])
        expect(lines, `${file} ${p}`).toContain(p);
    }
  });
});

describe("fly.toml", () => {
  it("builds executor/Dockerfile, mounts the workdir, drains on SIGTERM and ships files that exist", () => {
    expect(fly.build.dockerfile).toBe(DOCKERFILE);
    expect(existsSync(join(REPO_ROOT, fly.build.dockerfile))).toBe(true);
    expect(fly.kill_signal).toBe("SIGTERM");
    expect(fly.mounts.destination).toBe("/var/lib/mtor");
    for (const f of fly.files as { local_path?: string; secret_name?: string; guest_path: string }[]) {
      if (f.local_path) expect(existsSync(join(REPO_ROOT, f.local_path)), f.local_path).toBe(true);
      else expect(f.secret_name, f.guest_path).toMatch(/^[A-Z_]+$/);
    }
    expect(fly.files.map((f: { guest_path: string }) => f.guest_path)).toContain("/etc/mtor/executor.toml");
    // The executor serves nothing; no secret sits in [env].
    expect(fly.http_service).toBeUndefined();
    expect(Object.keys(fly.env).filter((k) => /SECRET|TOKEN|KEY$/.test(k) && k !== "MTOR_KEY_ID")).toEqual(
      [],
    );
  });

  it("the shipped executor config loads with fly's environment, its workdir on the volume", () => {
    const env = { ...fly.env, MTOR_EXECUTOR_SECRET: "s", ZHIPU_API_KEY: "t" } as Record<string, string>;
    const config = parseConfig(read("deploy/executor.toml"), env, "/etc/mtor");
    expect(config.workdir).toBe(fly.mounts.destination);
    expect(config.controlPlane).toBe(fly.env.MTOR_URL);
    expect(config.id).toBe(fly.env.MTOR_EXECUTOR_ID);
    expect(config.keyId).toBe(fly.env.MTOR_KEY_ID);
  });
});

describe("deploy/mtor-executor.service", () => {
  const unit = read("deploy/mtor-executor.service");
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(unit)?.[1];

  it("runs mtor executor with the same config path as the container, as the mtor user, draining on SIGTERM", () => {
    expect(value("ExecStart")).toBe(
      "/opt/mtor/node_modules/.bin/mtor executor --config /etc/mtor/executor.toml",
    );
    expect(value("User")).toBe("mtor");
    expect(value("KillSignal")).toBe("SIGTERM");
    expect(value("KillMode")).toBe("mixed");
    expect(value("StateDirectory")).toBe("mtor");
    expect(value("EnvironmentFile")).toBe("/etc/mtor/executor.env");
    expect(value("Restart")).toBe("always");
    // A bad config exits 2 (mtor executor); restarting would only loop.
    expect(value("RestartPreventExitStatus")).toBe("2");
    // The stop timeout outlasts the executor's default drain deadline (60 s).
    expect(Number(value("TimeoutStopSec"))).toBeGreaterThan(60);
    expect(value("WantedBy")).toBe("multi-user.target");
  });

  it("lets the bubblewrap sandbox start: the namespaces it unshares and a /proc it may mount afresh", () => {
    const allowed = (value("RestrictNamespaces") ?? "").split(/\s+/);
    for (const ns of ["user", "pid", "ipc", "uts", "mnt"]) expect(allowed, ns).toContain(ns);
    // Either covers directories of /proc, and the kernel then refuses bwrap's new procfs.
    expect(value("ProtectKernelTunables")).toBeUndefined();
    expect(value("ProtectProc")).not.toBe("invisible");
    expect(value("PrivateUsers")).toBeUndefined();
  });
});

describe("wrangler.toml [env.production] and npm run deploy", () => {
  const prod = wrangler.env?.production;

  it("repeats what environments do not inherit: the Fleet binding, its migrations, the cron and the vars", () => {
    expect(prod).toBeDefined();
    expect(prod.name).toMatch(/^[a-z0-9-]+$/);
    expect(prod.durable_objects.bindings).toEqual(wrangler.durable_objects.bindings);
    expect(prod.migrations).toEqual(wrangler.migrations);
    expect(prod.triggers.crons).toEqual(wrangler.triggers.crons);
    expect(Object.keys(prod.vars).sort()).toEqual(Object.keys(wrangler.vars).sort());
    expect(prod.vars.ALLOW_PRIVATE_WEBHOOKS).toBe("false");
    // Secrets are set with `wrangler secret put`, never written here.
    for (const secret of ["OPERATOR_TOKENS", "EXECUTOR_KEYS", "ACTION_SECRET"])
      expect(prod.vars[secret]).toBeUndefined();
    expect(read("wrangler.toml")).toMatch(/wrangler secret put OPERATOR_TOKENS --env production/);
  });

  it("npm run deploy deploys the production environment", () => {
    expect(rootPkg.scripts.deploy).toBe("wrangler deploy --env production");
  });

  /** The bundle `wrangler deploy --dry-run` builds, from wrangler.toml's entry or from `entry`. */
  function bundle(entry?: string): string {
    const out = mkdtempSync(join(tmpdir(), "mtor-dry-run-"));
    try {
      const args = ["deploy", ...(entry ? [entry] : []), "--env", "production", "--dry-run", "--outdir", out];
      const r = spawnSync(join(REPO_ROOT, "node_modules", ".bin", "wrangler"), args, {
        cwd: REPO_ROOT,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      return readFileSync(join(out, "index.js"), "utf8");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  it("deploys the production Worker, whose bundle holds no test route, test clock or seeding", {
    timeout: 120_000,
  }, () => {
    expect(wrangler.main).toBe("control-plane/src/index.ts");
    expect(prod.main ?? wrangler.main).toBe("control-plane/src/index.ts");
    const testOnly = /\/__test\/|setClock|benchSeed|TestFleet/;
    expect(bundle()).not.toMatch(testOnly);
    // The check can fail: the test build's bundle has them all.
    expect(bundle("control-plane/test/worker/index.ts")).toMatch(testOnly);
  });
});

describe("the systemd box: unit, env file and config together", () => {
  const unitText = read("deploy/mtor-executor.service");

  /** `systemd-analyze verify` on a copy whose /opt/mtor is this checkout (so ExecStart exists). */
  function verify(text: string): { code: number | null; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), "mtor-unit-"));
    try {
      const file = join(dir, "mtor-executor.service");
      writeFileSync(file, text.replaceAll("/opt/mtor", REPO_ROOT.replace(/\/$/, "")));
      const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
      if (r.error) throw new Error(`systemd-analyze is missing (Debian package systemd): ${r.error.message}`);
      return { code: r.status, stderr: r.stderr.trim() };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("systemd-analyze verify accepts the unit without a single complaint", () => {
    expect(verify(unitText)).toEqual({ code: 0, stderr: "" });
    // The check can fail: a broken copy is reported.
    expect(verify(unitText.replace(/^KillMode=mixed$/m, "KillMode=sometimes")).stderr).toMatch(/kill mode/i);
  });

  it("the env file is VAR=value lines systemd reads, and with it the shipped config loads", () => {
    const env: Record<string, string> = {};
    for (const line of read("deploy/executor.env").split("\n")) {
      if (line.trim() === "" || line.startsWith("#")) continue;
      const m = /^([A-Z_][A-Z0-9_]*)=(\S*)$/.exec(line);
      expect(m, `not a VAR=value line: ${line}`).not.toBeNull();
      env[(m as RegExpExecArray)[1]] = (m as RegExpExecArray)[2];
    }
    const config = parseConfig(read("deploy/executor.toml"), env, "/etc/mtor");
    // Every variable the config needs is in the file: the signing secret and each provider's key.
    expect(Object.keys(env).sort()).toEqual(
      ["MTOR_EXECUTOR_SECRET", ...Object.values(config.providers).map(() => "ZHIPU_API_KEY")].sort(),
    );
    expect(config.secret).toBe(env.MTOR_EXECUTOR_SECRET);
    expect(config.workdir).toBe("/var/lib/mtor");
    // The unit reads this file, and the config it starts is the shipped one.
    expect(unitText).toMatch(/^EnvironmentFile=\/etc\/mtor\/executor\.env$/m);
  });

  it("git over SSH uses the mtor user's own key and known_hosts, refusing unknown hosts", () => {
    const ssh = /^Environment="GIT_SSH_COMMAND=(.*)"$/m.exec(unitText)?.[1] ?? "";
    expect(ssh).toContain("-i /var/lib/mtor/.ssh/id_ed25519");
    expect(ssh).toContain("-o UserKnownHostsFile=/var/lib/mtor/.ssh/known_hosts");
    expect(ssh).toContain("-o StrictHostKeyChecking=yes");
    // The install steps create that directory owned by mtor and fill known_hosts.
    const ops = read("docs/operations.md");
    expect(ops).toMatch(/install -d -m 0700 -o mtor -g mtor \/var\/lib\/mtor\/\.ssh/);
    expect(ops).toMatch(/ssh-keyscan .*\/var\/lib\/mtor\/\.ssh\/known_hosts/);
  });
});
