// The overhead benchmark's distant origin: a git daemon behind a loopback proxy that adds a
// fixed round trip. The proxy really delays (an echo through it takes the added time) and git
// really works through it, fetch and push.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupAll, serveOrigin, startDelayProxy } from "../../../bench/lib";
import { lsRemoteWithHead } from "../../src/git";

const root = mkdtempSync(join(tmpdir(), "mtor-delay-proxy-"));
afterAll(async () => {
  await cleanupAll();
  rmSync(root, { recursive: true, force: true });
});

// Asynchronous: the proxy and the test share this process's event loop.
const git = async (cwd: string, ...args: string[]) =>
  (
    await promisify(execFile)("git", ["-c", "user.name=t", "-c", "user.email=t@mtor.invalid", ...args], {
      cwd,
      encoding: "utf8",
    })
  ).stdout.trim();

/** One round trip of a byte through an echo server reached at `port`, in ms. */
async function roundTrip(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => {
      const t = performance.now();
      s.once("data", () => {
        resolve(performance.now() - t);
        s.destroy();
      });
      s.write("x");
    });
    s.on("error", reject);
  });
}

describe("the delay proxy and the git daemon origin", () => {
  it("adds the round trip it is set to, and no more than a little", async () => {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    const echoPort = (echo.address() as { port: number }).port;
    const proxy = await startDelayProxy({ host: "127.0.0.1", port: echoPort }, 15);
    const direct: number[] = [];
    const through: number[] = [];
    for (let i = 0; i < 5; i++) {
      direct.push(await roundTrip(echoPort));
      through.push(await roundTrip(proxy.port));
    }
    echo.close();
    const min = (xs: number[]) => Math.min(...xs);
    expect(min(through)).toBeGreaterThanOrEqual(30);
    expect(min(through) - min(direct)).toBeGreaterThanOrEqual(29);
    expect(proxy.connections).toBe(5);
  });

  it("serves a bare repository over git:// through the proxy, fetch and push", async () => {
    const seed = join(root, "seed");
    mkdirSync(seed);
    await git(seed, "init", "-q", "-b", "main");
    writeFileSync(join(seed, "README.md"), "# x\n");
    await git(seed, "add", "-A");
    await git(seed, "commit", "-q", "-m", "first");
    const served = join(root, "served");
    mkdirSync(served);
    await git(root, "clone", "-q", "--bare", seed, join(served, "bench.git"));
    const origin = await serveOrigin(served, "bench.git");
    const proxy = await startDelayProxy({ host: "127.0.0.1", port: origin.port }, 15);
    const url = `git://127.0.0.1:${proxy.port}/bench.git`;
    const clone = join(root, "clone");
    await git(root, "clone", "-q", url, clone);
    writeFileSync(join(clone, "b.txt"), "b\n");
    await git(clone, "add", "b.txt");
    await git(clone, "commit", "-q", "-m", "second");
    await git(clone, "push", "-q", "origin", "HEAD:refs/heads/mtor/run-1");
    expect(await git(join(served, "bench.git"), "log", "--format=%s", "mtor/run-1")).toBe("second\nfirst");
    expect(proxy.connections).toBeGreaterThanOrEqual(2);
  });

  it("lists a distant origin in one round trip (protocol v0), HEAD's branch and every ref included", async () => {
    const seed = join(root, "seed-list");
    mkdirSync(seed);
    await git(seed, "init", "-q", "-b", "trunk");
    await git(seed, "commit", "-q", "--allow-empty", "-m", "first");
    await git(seed, "tag", "-a", "-m", "v1", "v1");
    const served = join(root, "served-list");
    mkdirSync(served);
    await git(root, "clone", "-q", "--bare", seed, join(served, "list.git"));
    const origin = await serveOrigin(served, "list.git");
    // A long round trip, so that one more exchange cannot hide in git's own start.
    const oneWayMs = 250;
    const proxy = await startDelayProxy({ host: "127.0.0.1", port: origin.port }, oneWayMs);
    const url = `git://127.0.0.1:${proxy.port}/list.git`;
    const t0 = performance.now();
    const listing = await lsRemoteWithHead(root, url);
    const took = performance.now() - t0;
    const tip = await git(seed, "rev-parse", "trunk");
    expect(listing).toEqual({
      refs: { "refs/heads/trunk": tip, "refs/tags/v1": await git(seed, "rev-parse", "v1") },
      head: "trunk",
    });
    // Protocol v2 asks twice (capabilities, then ls-refs): two round trips and more.
    expect(took).toBeGreaterThanOrEqual(2 * oneWayMs);
    expect(took).toBeLessThan(4 * oneWayMs);
  });
});
