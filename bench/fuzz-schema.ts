// `npm run fuzz:schema`: schemathesis, a property-based API tester nobody here wrote, against the
// control plane in local workerd (`wrangler dev` on a free port, an admin operator token),
// driven only by the API's own /v1/openapi.json, including its stateful links. Checks: no 5xx,
// every response conforms to its documented schema, only documented status codes. schemathesis
// is installed from PyPI into .venv-schemathesis/ (pinned; reused when present).
//
//   npm run fuzz:schema                      # the long run: 100 examples per operation
//   npm run fuzz:schema -- --quick           # the bounded run npm test does (10 per operation)
//   npm run fuzz:schema -- --max-examples N --seed S
//   npm run fuzz:schema -- --install         # only make sure the venv is there (.ci/run)
//
// The last line printed is `schemathesis summary: {json}`; exit 0 when nothing failed.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT, startControlPlane } from "../executor/src/local/control-plane";

export const SCHEMATHESIS_VERSION = "4.32.5";
const VENV = join(REPO_ROOT, ".venv-schemathesis");
const ST = join(VENV, "bin", "st");
const CHECKS = ["not_a_server_error", "status_code_conformance", "response_schema_conformance"];

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    install: { type: "boolean", default: false },
    "max-examples": { type: "string" },
    seed: { type: "string" },
  },
});
const maxExamples = Number(values["max-examples"] ?? (values.quick ? 10 : 100));
if (!Number.isInteger(maxExamples) || maxExamples < 1) {
  console.error(`--max-examples must be a positive integer (got ${values["max-examples"]})`);
  process.exit(2);
}

/** schemathesis in the project's own venv, at the pinned version. */
function ensureSchemathesis(): void {
  const have = existsSync(ST) ? spawnSync(ST, ["--version"], { encoding: "utf8" }).stdout : "";
  if (have.includes(`version ${SCHEMATHESIS_VERSION}`)) return;
  console.log(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${VENV}`);
  const steps: [string, string[]][] = [
    ["python3", ["-m", "venv", VENV]],
    [join(VENV, "bin", "pip"), ["install", "--quiet", `schemathesis==${SCHEMATHESIS_VERSION}`]],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { stdio: "inherit" });
    if (r.status !== 0) {
      console.error(
        `fuzz:schema: \`${cmd} ${args.join(" ")}\` failed (${r.error?.message ?? `exit ${r.status}`}). ` +
          "It needs python3 with venv and ensurepip (Debian: apt-get install python3-venv) and access to PyPI.",
      );
      process.exit(1);
    }
  }
}

export interface Summary {
  schemathesis: string;
  max_examples: number;
  seed: string | null;
  checks: string[];
  operations_selected: number;
  operations_tested: number;
  phases: { phase: string; state: "passed" | "failed" | "skipped" }[];
  test_cases: number;
  failures: number;
  errors: number;
  duration_s: number;
  exit_code: number;
}

async function main(): Promise<number> {
  ensureSchemathesis();
  const root = mkdtempSync(join(tmpdir(), "mtor-fuzz-schema-"));
  const token = "fuzz-schema-operator-token-0123456789";
  const cp = await startControlPlane({
    persistDir: join(root, "control-plane"),
    vars: {
      OPERATOR_TOKENS: `fuzz:${token}:admin`,
      EXECUTOR_KEYS: "fuzz:fuzz-schema-executor-secret-0123456789",
    },
  });
  const started = Date.now();
  try {
    const junit = join(root, "junit.xml");
    const args = [
      "run",
      `${cp.url}/v1/openapi.json`,
      "--url",
      cp.url,
      "--header",
      `Authorization: Bearer ${token}`,
      "--checks",
      CHECKS.join(","),
      "--max-examples",
      String(maxExamples),
      "--report",
      "junit",
      "--report-junit-path",
      junit,
      "--request-timeout",
      "30",
      "--no-color",
      "--warnings",
      "off",
    ];
    if (values.seed) args.push("--seed", values.seed);
    console.log(`st ${args.join(" ").replace(token, "<token>")}`);
    let out = "";
    const code = await new Promise<number>((resolve) => {
      const child = spawn(ST, args, {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, NO_COLOR: "1" },
      });
      child.stdout?.on("data", (b: Buffer) => {
        out += b.toString();
        process.stdout.write(b);
      });
      child.once("exit", (c) => resolve(c ?? 1));
    });
    // Figures from schemathesis's own summary; failing checks from its JUnit report.
    const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
    const xml = existsSync(junit) ? readFileSync(junit, "utf8") : "";
    const phases: Summary["phases"] = [...out.matchAll(/^\s*(✅|❌|⏭|🚫)\s+(\w+)\s*$/gmu)].map((m) => ({
      phase: m[2].toLowerCase(),
      state: m[1] === "✅" ? "passed" : m[1] === "❌" ? "failed" : "skipped",
    }));
    const summary: Summary = {
      schemathesis: SCHEMATHESIS_VERSION,
      max_examples: maxExamples,
      seed: /Seed: (\d+)/.exec(out)?.[1] ?? null,
      checks: CHECKS,
      operations_selected: num(/Selected: \d+\/(\d+)/),
      operations_tested: num(/Tested: (\d+)/),
      phases,
      test_cases: num(/(\d+) generated/),
      failures: Number(/<testsuite[^>]*\sfailures="(\d+)"/.exec(xml)?.[1] ?? Number.NaN),
      errors: Number(/<testsuite[^>]*\serrors="(\d+)"/.exec(xml)?.[1] ?? Number.NaN),
      duration_s: Math.round((Date.now() - started) / 100) / 10,
      exit_code: code,
    };
    console.log(`schemathesis summary: ${JSON.stringify(summary)}`);
    return code;
  } finally {
    await cp.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (values.install) ensureSchemathesis();
else process.exitCode = await main();
