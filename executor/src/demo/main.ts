// `tsx executor/src/demo/main.ts --port N [--script NAME]`: runs the demo provider until
// SIGINT/SIGTERM. The local stack starts it this way.
import { Command } from "commander";
import type { DemoFaults } from "./faults";
import { startDemoProvider } from "./provider";
import { SCRIPT_NAMES } from "./scripts";

const program = new Command()
  .name("mtor-demo-provider")
  .description("A local, scripted Anthropic-compatible model for mtor (not a real LLM).")
  .option("--port <n>", "port to listen on (0 picks a free one)", "0")
  .option("--host <addr>", "address to bind", "127.0.0.1")
  .option("--script <name>", `default script: ${SCRIPT_NAMES.join(", ")}`, "default")
  .option("--latency-ms <n>", "delay before every answer", "0")
  .option("--retry-after <s>", "retry-after seconds of the rate_limit script", "120")
  .option("--faults <json>", 'fault profile, e.g. \'{"preflightFailRate":0.2,"latencyMs":200}\'')
  .option("--seed <n>", "seed of the fault profile's random draws", "1")
  .option("--quiet", "do not print one line per request")
  .parse();

const opts = program.opts<{
  port: string;
  host: string;
  script: string;
  latencyMs: string;
  retryAfter: string;
  faults?: string;
  seed: string;
  quiet?: boolean;
}>();

let faults: DemoFaults | undefined;
if (opts.faults) {
  try {
    faults = JSON.parse(opts.faults) as DemoFaults;
  } catch {
    program.error(`--faults: not JSON: ${opts.faults}`);
  }
}

const provider = await startDemoProvider({
  port: Number(opts.port),
  host: opts.host,
  script: opts.script,
  latencyMs: Number(opts.latencyMs),
  retryAfterS: Number(opts.retryAfter),
  faults,
  seed: Number(opts.seed),
  log: opts.quiet ? undefined : (line) => console.log(`[demo] ${line}`),
});
console.log(`mtor demo provider (scripted model "demo", not a real LLM) listening on ${provider.url}`);

const stop = (): void => {
  void provider.close().then(() => process.exit(0));
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
