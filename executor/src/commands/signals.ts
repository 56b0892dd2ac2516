// Ctrl-C and SIGTERM as an AbortSignal, for commands that hold children and must stop them.
import type { Io } from "./io";

export function onStopSignals(io: Io): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const fromIo = () => controller.abort();
  io.signal.addEventListener("abort", fromIo, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      io.signal.removeEventListener("abort", fromIo);
    },
  };
}
