// Real git repositories in temp dirs for the gate tests: files in, commits out.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_PAGER: "cat",
  GIT_AUTHOR_NAME: "mtor test",
  GIT_AUTHOR_EMAIL: "test@mtor.invalid",
  GIT_COMMITTER_NAME: "mtor test",
  GIT_COMMITTER_EMAIL: "test@mtor.invalid",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
};

const made: string[] = [];

/** Removes every repository made so far (call in afterAll). */
export async function cleanupRepos(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export class TestRepo {
  private constructor(readonly dir: string) {}

  /** A repository on `main` with one commit holding `files`. */
  static async create(files: Record<string, string>): Promise<TestRepo> {
    const dir = await mkdtemp(join(tmpdir(), "mtor-gates-"));
    made.push(dir);
    const repo = new TestRepo(dir);
    await repo.git("init", "-q", "-b", "main");
    await repo.commit("base", files);
    return repo;
  }

  git(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        "git",
        args,
        { cwd: this.dir, env: ENV, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`git ${args.join(" ")}: ${stderr}`));
          else resolve(stdout);
        },
      );
    });
  }

  /** Writes files (null deletes one) without committing. */
  async write(files: Record<string, string | null>): Promise<void> {
    for (const [path, text] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (text === null) {
        await rm(full, { force: true });
      } else {
        await mkdir(dirname(full), { recursive: true });
        await writeFile(full, text);
      }
    }
  }

  /** Writes files and commits everything; returns the new sha. */
  async commit(message: string, files: Record<string, string | null> = {}): Promise<string> {
    await this.write(files);
    await this.git("add", "-A");
    await this.git("commit", "-q", "--allow-empty", "-m", message);
    return (await this.git("rev-parse", "HEAD")).trim();
  }

  /** Creates and checks out a branch (from `from`, default the current commit). */
  async branch(name: string, from?: string): Promise<void> {
    await this.git("checkout", "-q", "-b", name, ...(from ? [from] : []));
  }

  async checkout(name: string): Promise<void> {
    await this.git("checkout", "-q", name);
  }

  async sha(ref: string): Promise<string> {
    return (await this.git("rev-parse", ref)).trim();
  }
}
