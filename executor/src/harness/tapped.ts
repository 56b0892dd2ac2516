// How every adapter runs its CLI: behind mtor's provider tap, under the run's cancel and timeout,
// and how a preflight turns into a short probe run.
import type { Failure } from "@mtor/schema";
import { PREFLIGHT_PROMPT } from "../prompt";
import { PREFLIGHT_TIMEOUT_MS, processFailure } from "./outcome";
import { type ProcessResult, type RunProcessOptions, runProcess } from "./process";
import { startProviderTap } from "./provider-tap";
import type { HarnessInput, PreflightInput } from "./types";

export interface TappedRunOptions {
  input: HarnessInput;
  /** The harness's name in failure messages. */
  harness: string;
  /** Provider errors the tap tolerates before it stops the process. */
  maxErrors: number;
  /** false: the CLI talks to the provider directly, and only its own output tells of provider errors. */
  tap?: boolean;
  /** The CLI to start, once the provider URL it must use (the tap's) is known. */
  spawn: (baseUrl: string) => Promise<Pick<RunProcessOptions, "command" | "args" | "env" | "stdin">>;
}

/**
 * Runs the CLI and says how the process itself failed, if it did; the adapter then reads the
 * CLI's own output for errors the process result cannot show.
 */
export async function runTapped(
  opts: TappedRunOptions,
): Promise<{ p: ProcessResult; failure: Failure | null }> {
  const { input, harness } = opts;
  // The tap sees the provider's real status and retry-after, which CLIs tend to leave out.
  const stop = new AbortController();
  let tapFailure: Failure | null = null;
  const tap =
    opts.tap === false
      ? null
      : await startProviderTap({
          upstream: input.provider.baseUrl,
          maxErrors: opts.maxErrors,
          onFailure: (f) => {
            tapFailure = f;
            stop.abort();
          },
          holdUntil: input.holdUntil,
        });
  // A refused hold stops the CLI: none of its requests will ever be answered.
  input.holdUntil?.catch(() => stop.abort());
  try {
    // Without the tap nothing can hold the CLI's requests: it starts only once the hold is over.
    if (!tap && input.holdUntil) await input.holdUntil.catch(() => undefined);
    const spawn = await opts.spawn(tap?.url ?? input.provider.baseUrl);
    const signal = input.signal ? AbortSignal.any([input.signal, stop.signal]) : stop.signal;
    const p = await runProcess({
      ...spawn,
      cwd: input.cwd,
      timeoutMs: input.timeoutMs,
      signal,
      onOutput: input.onOutput,
      sandbox: input.sandbox,
    });
    // When the tap stopped the process, the provider's error is the reason, not the abort; a
    // process that never started or a run the operator canceled says so whatever the tap saw.
    const failure =
      p.spawnError || input.signal?.aborted
        ? processFailure(p, harness, input.timeoutMs)
        : (tapFailure ?? processFailure(p, harness, input.timeoutMs));
    return { p: tap?.heldMs ? { ...p, heldMs: tap.heldMs } : p, failure };
  } finally {
    await tap?.close();
  }
}

/** The run a preflight makes: the probe prompt unless one is given, within the preflight limit. */
export function preflightRun(input: PreflightInput): HarnessInput {
  return {
    ...input,
    prompt: input.prompt ?? PREFLIGHT_PROMPT,
    timeoutMs: Math.min(input.timeoutMs ?? PREFLIGHT_TIMEOUT_MS, PREFLIGHT_TIMEOUT_MS),
  };
}
