// The bwrap sandbox attacked from inside: what a harness's shell can see, write and leave behind.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runProcess } from "../../src/harness/process";
import { checkSandbox, createSandbox, SandboxUnavailable } from "../../src/sandbox";

const root = mkdtempSync(join(tmpdir(), "mtor-sandbox-test-"));
const workdir = join(root, "workdir");
const place = { workspace: join(workdir, "runs", "r1", "ws"), home: join(workdir, "runs", "r1", "home") };
const sandbox = createSandbox("bwrap", { hidden: [workdir] });
const SECRET = `secret-${process.pid}-${Date.now()}`;

function inSandbox(script: string, timeoutMs = 20_000) {
  return runProcess({
    command: "sh",
    args: ["-c", script],
    cwd: place.workspace,
    env: { PATH: "/usr/bin:/bin", HOME: place.home },
    timeoutMs,
    sandbox: { sandbox, place },
  });
}

async function timeRun(boxed: boolean): Promise<number> {
  const t0 = performance.now();
  const p = await runProcess({
    command: "true",
    args: [],
    cwd: place.workspace,
    env: { PATH: "/usr/bin:/bin", HOME: place.home },
    timeoutMs: 10_000,
    sandbox: boxed ? { sandbox, place } : undefined,
  });
  expect(p.exitCode).toBe(0);
  return performance.now() - t0;
}

/** Host processes whose command line holds `marker`. */
function hostProcessesWith(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, "utf8").includes(marker)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

beforeAll(() => {
  mkdirSync(place.workspace, { recursive: true });
  mkdirSync(place.home, { recursive: true });
  mkdirSync(join(workdir, "spool"), { recursive: true });
  writeFileSync(join(workdir, "spool", "verdict.json"), SECRET);
  mkdirSync(join(workdir, "runs", "r2", "ws"), { recursive: true });
  writeFileSync(join(workdir, "runs", "r2", "ws", "other.txt"), SECRET);
  process.env.MTOR_SANDBOX_TEST_SECRET = SECRET;
});
afterAll(() => {
  delete process.env.MTOR_SANDBOX_TEST_SECRET;
  rmSync(root, { recursive: true, force: true });
});

describe("bwrap sandbox", () => {
  it("starts on this box (bubblewrap must be installed) and costs under 50 ms a run", async () => {
    await checkSandbox(sandbox);
    // What the sandbox adds to starting a command: the same `true` with and without it. The
    // box is shared with other test runs, so the fastest of each stands for the cost without
    // their load; the median of the pairs is printed beside it.
    const plain: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < 9; i++) {
      plain.push(await timeRun(false));
      boxed.push(await timeRun(true));
    }
    const cost = Math.min(...boxed) - Math.min(...plain);
    const pairs = boxed.map((b, i) => b - (plain[i] as number)).sort((a, b) => a - b);
    console.log(
      `sandbox cost per start: ${cost.toFixed(1)} ms (fastest of 9 each); median of pairs ${(pairs[4] as number).toFixed(1)} ms`,
    );
    expect(cost).toBeLessThan(50);
  });

  it("hides the executor's processes, environment and files, and ~/.ssh", async () => {
    const p = await inSandbox(
      [
        `cat /proc/${process.pid}/environ 2>/dev/null | tr '\\0' '\\n' | grep -c MTOR_SANDBOX_TEST_SECRET || true`,
        "grep -l MTOR_SANDBOX_TEST_SECRET /proc/*/environ 2>/dev/null | wc -l",
        "env | grep -c MTOR_SANDBOX_TEST_SECRET || true",
        "ls /proc | grep -E '^[0-9]+$' | wc -l",
        `cat ${join(workdir, "spool", "verdict.json")} 2>&1 || true`,
        `cat ${join(workdir, "runs", "r2", "ws", "other.txt")} 2>&1 || true`,
        "ls -d /root/.ssh /home 2>&1 || true",
        "kill -0 1 && echo pid1-is-ours",
      ].join("; "),
    );
    expect(p.exitCode).toBe(0);
    expect(p.stdout).not.toContain(SECRET);
    const lines = p.stdout.trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(["0", "0", "0"]);
    // Only the sandbox's own few processes exist in its PID namespace.
    expect(Number(lines[3])).toBeLessThan(6);
    expect(p.stdout).toMatch(/verdict\.json: No such file or directory/);
    expect(p.stdout).toMatch(/other\.txt: No such file or directory/);
    expect(p.stdout).toMatch(/\/root\/\.ssh.*No such file or directory/);
  });

  it("writes only to its workspace, HOME and private /tmp, and has no capabilities", async () => {
    const p = await inSandbox(
      [
        "echo ok > work.txt && echo ok > $HOME/h.txt && echo ok > /tmp/t.txt && echo wrote",
        // Whatever it writes at the workdir's path lands in its own private view, never the host's.
        `echo x > ${join(workdir, "planted")} 2>/dev/null; echo x > ${join(workdir, "spool", "planted")} 2>/dev/null`,
        "echo x > /usr/planted 2>/dev/null || echo no-usr",
        "echo x > /etc/planted 2>/dev/null || echo no-etc",
        "grep CapEff /proc/self/status",
        "mount -t tmpfs x /tmp 2>/dev/null || echo no-mount",
      ].join("; "),
    );
    expect(p.stdout).toContain("wrote");
    expect(p.stdout).toContain("no-usr");
    expect(p.stdout).toContain("no-etc");
    expect(p.stdout).toContain("CapEff:\t0000000000000000");
    expect(p.stdout).toContain("no-mount");
    expect(readFileSync(join(place.workspace, "work.txt"), "utf8")).toBe("ok\n");
    expect(existsSync(join(workdir, "planted"))).toBe(false);
    expect(existsSync(join(workdir, "spool", "planted"))).toBe(false);
    expect(existsSync("/usr/planted")).toBe(false);
    // /tmp inside was private.
    expect(existsSync("/tmp/t.txt")).toBe(false);
  });

  it("sees read-only tools that live under /tmp (a checkout there), while /tmp itself stays private", async () => {
    // A CI clone or a developer's checkout under /tmp holds the harnesses' node_modules: the
    // private /tmp must not cover them, or every harness fails to start.
    const tools = join(root, "tools");
    mkdirSync(tools, { recursive: true });
    writeFileSync(join(tools, "tool.sh"), "echo tool-ran\n");
    writeFileSync(join(root, "beside-tools.txt"), SECRET);
    const withTools = createSandbox("bwrap", { hidden: [workdir], readOnly: [tools] });
    const p = await runProcess({
      command: "sh",
      args: [
        "-c",
        `sh ${join(tools, "tool.sh")}; cat ${join(root, "beside-tools.txt")} 2>&1; echo "x" > ${join(tools, "w")} 2>&1 || echo readonly`,
      ],
      cwd: place.workspace,
      env: { PATH: "/usr/bin:/bin", HOME: place.home },
      timeoutMs: 20_000,
      sandbox: { sandbox: withTools, place },
    });
    expect(p.stdout).toContain("tool-ran");
    expect(p.stdout).not.toContain(SECRET);
    expect(p.stdout).toContain("readonly");
    expect(existsSync(join(tools, "w"))).toBe(false);
  });

  it("kills a setsid, double-forked grandchild when the command ends", async () => {
    const marker = `mtor-sandbox-orphan-${process.pid}-${Date.now()}`;
    const p = await inSandbox(
      `setsid sh -c '(sh -c "while :; do echo tick >> ${place.workspace}/late; sleep 0.05; done; : ${marker}" &) ; : ${marker}' & sleep 0.3; echo started`,
    );
    expect(p.stdout).toContain("started");
    expect(hostProcessesWith(marker)).toEqual([]);
    const before = readFileSync(join(place.workspace, "late"), "utf8").length;
    // Nothing writes after the sandbox ended: read again once a writer would have ticked.
    execFileSync("sleep", ["0.3"]);
    expect(readFileSync(join(place.workspace, "late"), "utf8").length).toBe(before);
  });

  it("kills everything when the run is cancelled", async () => {
    const marker = `mtor-sandbox-cancel-${process.pid}-${Date.now()}`;
    const ac = new AbortController();
    const running = runProcess({
      command: "sh",
      args: ["-c", `setsid sh -c 'sleep 60; : ${marker}' & echo up; sleep 60`],
      cwd: place.workspace,
      env: { PATH: "/usr/bin:/bin", HOME: place.home },
      timeoutMs: 60_000,
      signal: ac.signal,
      sandbox: { sandbox, place },
      onOutput: (chunk) => {
        if (chunk.includes("up")) ac.abort();
      },
    });
    const p = await running;
    expect(p.aborted).toBe(true);
    expect(hostProcessesWith(marker)).toEqual([]);
  });

  it("refuses to start when bwrap cannot run, naming the fix", async () => {
    const broken = createSandbox("bwrap", { bin: join(root, "no-such-bwrap") });
    const err = await checkSandbox(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SandboxUnavailable);
    expect((err as Error).message).toMatch(/apt-get install bubblewrap/);
    expect((err as Error).message).toMatch(/sandbox = "none"/);
    expect(await checkSandbox(createSandbox("none"))).toBe(0);
  });
});
