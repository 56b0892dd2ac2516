// `mtor up`: the whole loop on one machine until Ctrl-C. Prints the dashboard URL and the
// operator token, and points the CLI at the local stack through ~/.config/mtor/config.toml.
import { resolve } from "node:path";
import { type Env, readUserConfig, userConfigPath, writeUserConfig } from "../http/settings";
import { ENV_PROVIDERS } from "./providers";
import { portIsFree, type Stack, startStack } from "./stack";

export interface UpOptions {
  stateDir: string;
  port: number;
  /** Listen here as well as on loopback (0.0.0.0: every interface, for a phone on the network). */
  host?: string;
  /** The URL a phone reaches the stack at; links in notifications use it. */
  publicUrl?: string;
  env: Env;
  out: (line: string) => void;
  verbose: boolean;
  writeConfig: boolean;
  /** Aborting stops the stack (Ctrl-C, SIGTERM). */
  signal: AbortSignal;
}

const isLoopback = (url: string | undefined) => {
  if (!url) return false;
  try {
    return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** Runs the stack until `signal` aborts or the executor dies; returns the exit code. */
export async function runUp(o: UpOptions): Promise<number> {
  if (!(await portIsFree(o.port))) {
    o.out(`mtor up: port ${o.port} is taken (another mtor up?). Pick another with --port.`);
    return 1;
  }
  o.out(`mtor up: starting the local stack in ${resolve(o.stateDir)} …`);
  let stack: Stack;
  try {
    stack = await startStack({
      stateDir: o.stateDir,
      port: o.port,
      host: o.host,
      publicUrl: o.publicUrl,
      env: o.env,
      log: o.out,
      verbose: o.verbose,
    });
  } catch (err) {
    o.out(`mtor up: could not start: ${(err as Error).message}`);
    return 1;
  }

  let configNote: string;
  const file = userConfigPath(o.env);
  if (o.writeConfig) {
    let existing: { url?: string } = {};
    try {
      existing = readUserConfig(file);
    } catch {
      existing = {};
    }
    if (existing.url === undefined || isLoopback(existing.url)) {
      writeUserConfig(file, { url: stack.url, token: stack.token });
      configNote = `saved to ${file}, so \`npx mtor …\` talks to this stack`;
    } else {
      configNote = `${file} points at ${existing.url}; left alone. Use: export MTOR_URL=${stack.url} MTOR_TOKEN=${stack.token}`;
    }
  } else {
    configNote = `export MTOR_URL=${stack.url} MTOR_TOKEN=${stack.token}`;
  }

  const rule = "─".repeat(64);
  o.out(rule);
  if (stack.demo) {
    o.out("  PROVIDER: demo — the built-in SCRIPTED model, NOT a real LLM.");
    o.out("  It runs the real claude CLI against a local fake API and makes a small real commit.");
    o.out(`  For real work set one of ${ENV_PROVIDERS.map((p) => p.tokenEnv).join(", ")} and restart.`);
  } else {
    o.out(`  providers: ${stack.providers.map((p) => `${p.name} (${p.model} via ${p.harness})`).join(", ")}`);
  }
  o.out(`  dashboard: ${stack.url}/`);
  if (o.publicUrl)
    o.out(`  phone:     ${o.publicUrl.replace(/\/+$/, "")}/  (action links and ntfy click URLs use it)`);
  else if (o.host && !["127.0.0.1", "localhost", "::1"].includes(o.host))
    o.out(
      `  phone:     listening on ${o.host}:${o.port}; add --public-url http://<this machine's address>:${o.port} for links`,
    );
  o.out(`  token:     ${stack.token}`);
  o.out(`             ${configNote}`);
  o.out(`  API docs:  ${stack.url}/docs`);
  o.out(`  repo:      sandbox → ${stack.sandboxRepo} (specs say \`repo: sandbox\`)`);
  o.out(`  executor:  1 (config ${stack.executorConfig}); cron ticks every minute`);
  o.out(rule);
  o.out("  try:  npx mtor dispatch examples/01-feedback-throttle.md && npx mtor list --watch");
  o.out("  Ctrl-C stops everything.");

  const crashed = stack.executorExited.then((code) => ({ crashed: code }));
  const aborted = new Promise<{ crashed?: undefined }>((done) => {
    if (o.signal.aborted) done({});
    o.signal.addEventListener("abort", () => done({}), { once: true });
  });
  const why = await Promise.race([crashed, aborted]);
  if (why.crashed !== undefined) o.out(`mtor up: the executor exited (${why.crashed}); stopping.`);
  else o.out("mtor up: stopping (the executor drains its runs first) …");
  await stack.stop();
  o.out("mtor up: stopped.");
  return why.crashed !== undefined ? 1 : 0;
}
