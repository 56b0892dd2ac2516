// The box's load as the claim and heartbeats report it.
import { readFileSync, statfsSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import type { Load } from "@mtor/schema";

/**
 * 1-min load average ÷ cores, available ÷ total memory, free ÷ total disk at `dir`. `cores`
 * overrides the count (containers whose CPU quota differs from what os.cpus() shows).
 */
export function boxLoad(dir: string, cores = cpus().length): Load {
  cores = Math.max(1, cores);
  const cpu = round(loadavg()[0] / cores);
  const load: Load = { cpu: Math.min(cpu, 1000), mem_free: round(memAvailable() / totalmem()) };
  try {
    const s = statfsSync(dir);
    if (s.blocks > 0) load.disk_free = round(Math.min(1, s.bavail / s.blocks));
  } catch {
    // No disk figure when the workdir is not there yet; the field is optional.
  }
  return load;
}

/** MemAvailable where Linux reports it (free memory alone undercounts reclaimable cache). */
function memAvailable(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return freemem();
}

function round(n: number): number {
  return Math.max(0, Math.min(1000, Math.round(n * 1000) / 1000));
}
