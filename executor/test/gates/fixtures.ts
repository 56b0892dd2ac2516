// The base repository the corpus cases start from: a little TypeScript, JavaScript and Python
// project with functions worth deleting.

export const DISPATCH_TS = `import { Queue } from "./queue";

export interface Job {
  id: string;
  priority: number;
  provider: string;
  attempts: number;
}

/** Decides whether a job may go out now. */
export function should_dispatch(job: Job, inFlight: number, slots: number, frozen: boolean): boolean {
  if (frozen) {
    return false;
  }
  if (inFlight >= slots) {
    return false;
  }
  if (job.attempts > 3) {
    console.warn(\`job \${job.id} exhausted its attempts\`);
    return false;
  }
  const weight = job.priority * 2 + (slots - inFlight);
  return weight > 0;
}

export function legacy_dispatch(job: Job): boolean {
  const q = new Queue();
  q.push(job.id);
  return q.size() > 0;
}

export const backoff = (attempt: number, capS = 1800): number => {
  const base = 60;
  let delay = base * 2 ** (attempt - 1);
  if (delay > capS) {
    delay = capS;
  }
  const jitter = Math.floor(delay * 0.1);
  const sign = attempt % 2 === 0 ? 1 : -1;
  return delay + sign * jitter;
};
`;

export const QUEUE_TS = `export class Queue {
  private items: string[] = [];

  push(id: string): void {
    if (this.items.includes(id)) {
      return;
    }
    this.items.push(id);
  }

  claim(limit: number): string[] {
    const taken: string[] = [];
    while (taken.length < limit && this.items.length > 0) {
      const next = this.items.shift();
      if (next === undefined) {
        break;
      }
      taken.push(next);
    }
    return taken;
  }

  size(): number {
    return this.items.length;
  }
}
`;

export const FORMAT_JS = `"use strict";

function formatDuration(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  let out = "";
  if (h) out += h + "h";
  if (m) out += m + "m";
  if (s) out += s + "s";
  return out || "0s";
}

exports.formatBytes = function (n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return v.toFixed(1) + " " + units[i];
};

module.exports.formatDuration = formatDuration;
`;

export const THROTTLE_PY = `import time


def effective_slots(slots, failures):
    """Halve the slots after two failures in a row, never below one."""
    value = slots
    for _ in range(failures // 2):
        value = value // 2
    if value < 1:
        value = 1
    if value > slots:
        value = slots
    return value


class Throttle:
    def __init__(self, slots):
        self.slots = slots
        self.failures = 0
        self.opened_at = None

    def record_failure(self):
        self.failures += 1
        if self.failures >= 3:
            self.opened_at = time.time()

    def recover(self, now=None):
        now = now or time.time()
        if self.opened_at is None:
            return True
        waited = now - self.opened_at
        if waited < 300:
            return False
        self.opened_at = None
        self.failures = 0
        return True
`;

export const DISPATCH_TEST_TS = `import { describe, expect, it } from "vitest";
import { should_dispatch } from "../src/dispatch";

describe("should_dispatch", () => {
  it("refuses when frozen", () => {
    expect(should_dispatch({ id: "a", priority: 0, provider: "p", attempts: 0 }, 0, 2, true)).toBe(false);
  });
});
`;

export const TEST_THROTTLE_PY = `from app.throttle import effective_slots


def test_effective_slots_halves():
    assert effective_slots(4, 2) == 2
`;

export const CHANGELOG = Array.from(
  { length: 120 },
  (_, i) => `- entry ${i}: a line of release notes about change ${i}`,
).join("\n");

export const BASE_FILES: Record<string, string> = {
  "src/dispatch.ts": DISPATCH_TS,
  "src/queue.ts": QUEUE_TS,
  "src/format.js": FORMAT_JS,
  "app/throttle.py": THROTTLE_PY,
  "test/dispatch.test.ts": DISPATCH_TEST_TS,
  "tests/test_throttle.py": TEST_THROTTLE_PY,
  "docs/CHANGELOG.md": `${CHANGELOG}\n`,
  "package.json": `${JSON.stringify({ name: "fixture", private: true, scripts: { test: "node check.js" } }, null, 2)}\n`,
  "check.js": `console.log("checked");\n`,
};

/** Replaces exactly one occurrence of `from` in `text`; throws when absent so fixtures stay honest. */
export function edit(text: string, from: string, to: string): string {
  const i = text.indexOf(from);
  if (i < 0) throw new Error(`fixture edit: ${JSON.stringify(from.slice(0, 40))} not found`);
  return text.slice(0, i) + to + text.slice(i + from.length);
}

/** The text of one top-level TS declaration starting at `start` and ending at the next blank line after `}`. */
export function cut(text: string, start: string): { without: string; piece: string } {
  const i = text.indexOf(start);
  if (i < 0) throw new Error(`fixture cut: ${JSON.stringify(start)} not found`);
  const end = text.indexOf("\n}\n", i);
  const endSemi = text.indexOf("\n};\n", i);
  const stop = endSemi >= 0 && (end < 0 || endSemi < end) ? endSemi + 4 : end + 3;
  return { without: text.slice(0, i) + text.slice(stop).replace(/^\n/, ""), piece: text.slice(i, stop) };
}
