// Finds a harness CLI installed as an npm dependency (the pinned version), else on PATH.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** The absolute path of `bin` from package `pkg`, or `bin` itself (looked up on PATH). */
export function resolvePackageBin(pkg: string, bin: string): string {
  try {
    const manifestPath = require.resolve(`${pkg}/package.json`);
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      bin?: string | Record<string, string>;
    };
    const rel = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.[bin];
    if (rel) return join(dirname(manifestPath), rel);
  } catch {
    // not installed as a dependency: fall back to PATH
  }
  return bin;
}
