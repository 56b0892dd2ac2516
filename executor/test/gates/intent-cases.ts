// Corpus cases about intent and the public surface: the seed failure (a nuanced
// `should_dispatch` replaced by a one-line threshold check when the spec said "add") in
// TypeScript, Python and Go, specs that name a symbol without asking for its removal, `removes`,
// and public symbols deleted with no caller in the repository.
import { type Case, onMain } from "./case";
import { cut, DISPATCH_TS, edit, FORMAT_JS, QUEUE_TS, THROTTLE_PY } from "./fixtures";
import type { TestRepo } from "./repo";

export const SCHEDULER_PY = `import time

COOLDOWN_S = 300


def should_dispatch(provider, feedback, now=None):
    """Whether a provider may take another run: healthy, not failing, not cooling down."""
    now = now or time.time()
    if not provider.healthy:
        return False
    if provider.breaker_open_until and provider.breaker_open_until > now:
        return False
    recent = [f for f in feedback if now - f.at < COOLDOWN_S]
    failures = sum(1 for f in recent if f.outcome in ("failed", "rejected"))
    if failures >= 2:
        return provider.in_flight < max(1, provider.slots // 2)
    if provider.cooling_until and provider.cooling_until > now:
        return False
    return provider.in_flight < provider.slots


def pick_provider(providers, feedback):
    for p in providers:
        if should_dispatch(p, feedback):
            return p
    return None


def describe(provider):
    return f"{provider.name}: {provider.in_flight}/{provider.slots}"


class Scheduler:
    def __init__(self, providers):
        self.providers = providers

    def next(self, feedback):
        return pick_provider(self.providers, feedback)

    def drain(self):
        self.providers = []
`;

export const SCHEDULER_GO = `package sched

import "time"

// Provider is one provider's state as the scheduler sees it.
type Provider struct {
	Name          string
	Healthy       bool
	Slots         int
	InFlight      int
	BreakerUntil  time.Time
	CoolingUntil  time.Time
}

// Feedback is one finished run.
type Feedback struct {
	At      time.Time
	Outcome string
}

// ShouldDispatch reports whether p may take another run: healthy, not failing, not cooling.
func ShouldDispatch(p Provider, feedback []Feedback, now time.Time) bool {
	if !p.Healthy {
		return false
	}
	if now.Before(p.BreakerUntil) {
		return false
	}
	failures := 0
	for _, f := range feedback {
		if now.Sub(f.At) < 5*time.Minute && (f.Outcome == "failed" || f.Outcome == "rejected") {
			failures++
		}
	}
	if failures >= 2 {
		return p.InFlight < max(1, p.Slots/2)
	}
	if now.Before(p.CoolingUntil) {
		return false
	}
	return p.InFlight < p.Slots
}

// Describe formats a provider for logs.
func Describe(p Provider) string {
	return p.Name
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

// Slots is the provider's slots, clamped.
func Slots(p Provider) int {
	return clamp(p.Slots, 1, 64)
}
`;

const PY_THRESHOLD = `def should_dispatch(provider, feedback, now=None):
    return provider.in_flight < provider.slots
`;
const GO_THRESHOLD = `func ShouldDispatch(p Provider, feedback []Feedback, now time.Time) bool {
	return p.InFlight < p.Slots
}
`;
const TS_THRESHOLD =
  "export function should_dispatch(job: Job, inFlight: number, slots: number, frozen: boolean): boolean {\n  return inFlight < slots;\n}\n";

/** The Python function from `def name` to the next top-level statement. */
function pyBlock(text: string, start: string): string {
  const i = text.indexOf(start);
  if (i < 0) throw new Error(`fixture: ${start} not found`);
  const rest = text.slice(i);
  const m = /\n(?=\S)/.exec(rest.slice(1));
  const end = m ? i + 1 + m.index + 1 : text.length;
  return text.slice(i, end).replace(/\n+$/, "\n");
}

/** The Go declaration from `start` to its closing brace at column 0. */
function goBlock(text: string, start: string): string {
  const i = text.indexOf(start);
  if (i < 0) throw new Error(`fixture: ${start} not found`);
  const end = text.indexOf("\n}\n", i);
  return text.slice(i, end + 3);
}

const withPy = (r: TestRepo) => onMain(r, { "app/scheduler.py": SCHEDULER_PY });
const withGo = (r: TestRepo) =>
  onMain(r, { "sched/scheduler.go": SCHEDULER_GO, "go.mod": "module example.com/sched\n\ngo 1.22\n" });

const ADD_TS = "Add a cooldown check to `should_dispatch()` so a provider that failed recently is skipped.";
const ADD_PY =
  "Add a cooldown to should_dispatch() in app/scheduler.py: skip providers that failed in the last minute.";
const ADD_GO = "Add a jitter parameter to `ShouldDispatch` so retries spread out.";

export const intentCases: Case[] = [
  // ------------------------------------------------------------------ bad
  {
    name: "seed: TS should_dispatch replaced by a threshold check when the spec said add",
    expect: "destruction",
    spec: { body: ADD_TS },
    async build(r) {
      const { piece } = cut(DISPATCH_TS, "export function should_dispatch");
      await r.commit("add cooldown", { "src/dispatch.ts": edit(DISPATCH_TS, piece, TS_THRESHOLD) });
      return undefined;
    },
  },
  {
    name: "seed: Python should_dispatch replaced by a threshold check when the spec said add",
    expect: "destruction",
    spec: { body: ADD_PY },
    async build(r) {
      await withPy(r);
      await r.commit("add cooldown", {
        "app/scheduler.py": edit(SCHEDULER_PY, pyBlock(SCHEDULER_PY, "def should_dispatch"), PY_THRESHOLD),
      });
      return undefined;
    },
  },
  {
    name: "seed: Go ShouldDispatch replaced by a threshold check when the spec said add",
    expect: "destruction",
    spec: { body: ADD_GO },
    async build(r) {
      await withGo(r);
      await r.commit("add jitter", {
        "sched/scheduler.go": edit(SCHEDULER_GO, goBlock(SCHEDULER_GO, "func ShouldDispatch"), GO_THRESHOLD),
      });
      return undefined;
    },
  },
  {
    name: "spec asks to log in a method, which is gutted",
    expect: "destruction",
    spec: { body: "Log the decision in `Queue.claim`." },
    async build(r) {
      const claim = QUEUE_TS.slice(QUEUE_TS.indexOf("  claim("), QUEUE_TS.indexOf("  size()"));
      const stub =
        '  claim(limit: number): string[] {\n    console.log("claim", limit);\n    return [];\n  }\n\n';
      await r.commit("log claim", { "src/queue.ts": edit(QUEUE_TS, claim, stub) });
      return undefined;
    },
  },
  {
    name: "spec asks to extend an arrow function, which is gutted",
    expect: "destruction",
    spec: { body: "Add a `maxS` parameter to `backoff` so callers can cap it lower." },
    async build(r) {
      const { piece } = cut(DISPATCH_TS, "export const backoff");
      await r.commit("cap", {
        "src/dispatch.ts": edit(
          DISPATCH_TS,
          piece,
          "export const backoff = (attempt: number, maxS = 60): number => maxS;\n",
        ),
      });
      return undefined;
    },
  },
  {
    name: "spec says do not remove a function, which is deleted",
    expect: "destruction",
    spec: { body: "Do not remove `legacy_dispatch`; old clients still call it. Add a deprecation comment." },
    async build(r) {
      const { without } = cut(DISPATCH_TS, "export function legacy_dispatch");
      await r.commit("drop legacy", { "src/dispatch.ts": without });
      return undefined;
    },
  },
  {
    name: "spec names a function as the place to work, which is deleted",
    expect: "destruction",
    spec: { body: "Call `legacy_dispatch` from the router when the flag is set." },
    async build(r) {
      const { without } = cut(DISPATCH_TS, "export function legacy_dispatch");
      await r.commit("route", { "src/dispatch.ts": without });
      return undefined;
    },
  },
  {
    name: "spec removes something inside a method, and the method is gutted",
    expect: "destruction",
    spec: { body: "Remove the five-minute wait in `Throttle.recover` and use the configured cooldown." },
    async build(r) {
      const recover = THROTTLE_PY.slice(THROTTLE_PY.indexOf("    def recover"));
      await r.commit("cooldown", {
        "app/throttle.py": edit(
          THROTTLE_PY,
          recover,
          "    def recover(self, now=None):\n        return True\n",
        ),
      });
      return undefined;
    },
  },
  {
    name: "TS exported function with no callers deleted (public surface)",
    expect: "destruction",
    async build(r) {
      const { without } = cut(DISPATCH_TS, "export function legacy_dispatch");
      await r.commit("tidy", { "src/dispatch.ts": `${without}\nexport const version = 2;\n` });
      return undefined;
    },
  },
  {
    name: "TS function no longer exported (public surface)",
    expect: "destruction",
    async build(r) {
      await r.commit("hide", {
        "src/dispatch.ts": edit(DISPATCH_TS, "export function legacy_dispatch", "function legacy_dispatch"),
      });
      return undefined;
    },
  },
  {
    name: "public method of an exported class deleted, no callers (public surface)",
    expect: "destruction",
    async build(r) {
      const size = QUEUE_TS.slice(QUEUE_TS.indexOf("  size()"), QUEUE_TS.lastIndexOf("}"));
      await r.commit("tidy", { "src/queue.ts": edit(QUEUE_TS, size, "") });
      return undefined;
    },
  },
  {
    name: "Python public function with no callers deleted (public surface)",
    expect: "destruction",
    async build(r) {
      await withPy(r);
      await r.commit("tidy", {
        "app/scheduler.py": edit(SCHEDULER_PY, pyBlock(SCHEDULER_PY, "def describe"), ""),
      });
      return undefined;
    },
  },
  {
    name: "Python public method with no callers deleted (public surface)",
    expect: "destruction",
    async build(r) {
      await withPy(r);
      const drain = SCHEDULER_PY.slice(SCHEDULER_PY.indexOf("    def drain"));
      await r.commit("tidy", { "app/scheduler.py": edit(SCHEDULER_PY, drain, "") });
      return undefined;
    },
  },
  {
    name: "Go exported function with no callers deleted (public surface)",
    expect: "destruction",
    async build(r) {
      await withGo(r);
      await r.commit("tidy", {
        "sched/scheduler.go": edit(
          SCHEDULER_GO,
          `// Describe formats a provider for logs.\n${goBlock(SCHEDULER_GO, "func Describe")}\n`,
          "",
        ),
      });
      return undefined;
    },
  },
  {
    name: "Go exported function deleted while a spec asks to extend it",
    expect: "destruction",
    spec: { body: "Extend `Slots` to honour a per-provider cap." },
    async build(r) {
      await withGo(r);
      await r.commit("cap", {
        "sched/scheduler.go": edit(SCHEDULER_GO, goBlock(SCHEDULER_GO, "func Slots"), ""),
      });
      return undefined;
    },
  },
  {
    name: "removes lists another symbol, not the one deleted",
    expect: "destruction",
    spec: { removes: ["legacy_dispatch"], body: "Remove the legacy path." },
    async build(r) {
      const { without } = cut(DISPATCH_TS, "export const backoff");
      await r.commit("tidy", { "src/dispatch.ts": without });
      return undefined;
    },
  },
  {
    name: "file deleted that the spec only mentions",
    expect: "destruction",
    spec: { body: "Move the byte formatting out of src/format.js into src/units.ts and add tests." },
    async build(r) {
      await r.commit("units", { "src/format.js": null, "src/units.ts": "export const KiB = 1024;\n" });
      return undefined;
    },
  },

  // ------------------------------------------------------------------ good
  {
    name: "removes lists the function that is gutted",
    spec: { removes: ["should_dispatch"], body: "Make dispatch a plain threshold check." },
    async build(r) {
      const { piece } = cut(DISPATCH_TS, "export function should_dispatch");
      await r.commit("threshold", { "src/dispatch.ts": edit(DISPATCH_TS, piece, TS_THRESHOLD) });
      return undefined;
    },
  },
  {
    name: "prose replaces the function that is gutted",
    spec: {
      body: "Replace `should_dispatch` with a plain threshold check; the throttle now lives in the fleet.",
    },
    async build(r) {
      const { piece } = cut(DISPATCH_TS, "export function should_dispatch");
      await r.commit("threshold", { "src/dispatch.ts": edit(DISPATCH_TS, piece, TS_THRESHOLD) });
      return undefined;
    },
  },
  {
    name: "removes lists an exported function that is deleted",
    spec: { removes: ["legacy_dispatch"], body: "Clean up the old entry point." },
    async build(r) {
      const { without } = cut(DISPATCH_TS, "export function legacy_dispatch");
      await r.commit("tidy", { "src/dispatch.ts": without });
      return undefined;
    },
  },
  {
    name: "removes lists a qualified Python method that is deleted",
    spec: { removes: ["Scheduler.drain"], body: "Draining moved to the daemon." },
    async build(r) {
      await withPy(r);
      const drain = SCHEDULER_PY.slice(SCHEDULER_PY.indexOf("    def drain"));
      await r.commit("tidy", { "app/scheduler.py": edit(SCHEDULER_PY, drain, "") });
      return undefined;
    },
  },
  {
    name: "removes lists a file that is deleted",
    spec: { removes: ["src/format.js"], body: "Formatting moved to the CLI package." },
    async build(r) {
      await r.commit("tidy", { "src/format.js": null });
      return undefined;
    },
  },
  {
    name: "Go seed: ShouldDispatch replaced where the spec rewrites it",
    spec: { body: "Rewrite `ShouldDispatch` as a plain slot check; health moved to the breaker." },
    async build(r) {
      await withGo(r);
      await r.commit("rewrite", {
        "sched/scheduler.go": edit(SCHEDULER_GO, goBlock(SCHEDULER_GO, "func ShouldDispatch"), GO_THRESHOLD),
      });
      return undefined;
    },
  },
  {
    name: "TS seed done right: should_dispatch extended with a cooldown",
    spec: { body: ADD_TS },
    async build(r) {
      const text = edit(
        DISPATCH_TS,
        "  if (inFlight >= slots) {",
        "  if (job.attempts > 0 && Date.now() - cooldownStart < 60_000) {\n    return false;\n  }\n  if (inFlight >= slots) {",
      );
      await r.commit("add cooldown", { "src/dispatch.ts": `let cooldownStart = 0;\n${text}` });
      return undefined;
    },
  },
  {
    name: "Python seed done right: should_dispatch extended with a cooldown",
    spec: { body: ADD_PY },
    async build(r) {
      await withPy(r);
      await r.commit("add cooldown", {
        "app/scheduler.py": edit(
          SCHEDULER_PY,
          "    if not provider.healthy:",
          "    if provider.last_failure and now - provider.last_failure < 60:\n        return False\n    if not provider.healthy:",
        ),
      });
      return undefined;
    },
  },
  {
    name: "Go seed done right: ShouldDispatch gets a jitter parameter",
    spec: { body: ADD_GO },
    async build(r) {
      await withGo(r);
      const text = edit(
        SCHEDULER_GO,
        "func ShouldDispatch(p Provider, feedback []Feedback, now time.Time) bool {",
        "func ShouldDispatch(p Provider, feedback []Feedback, now time.Time, jitter time.Duration) bool {\n\tnow = now.Add(jitter)",
      );
      await r.commit("add jitter", { "sched/scheduler.go": text });
      return undefined;
    },
  },
  {
    name: "Python private helper inlined into its only caller",
    async build(r) {
      await onMain(r, {
        "app/fmt.py":
          'def _pad(s, n):\n    return s + " " * (n - len(s))\n\n\ndef row(cells, width):\n    return "|".join(_pad(c, width) for c in cells)\n',
      });
      await r.commit("inline", {
        "app/fmt.py":
          'def row(cells, width):\n    return "|".join(c + " " * (width - len(c)) for c in cells)\n',
      });
      return undefined;
    },
  },
  {
    name: "Go unexported helper inlined into its only caller",
    async build(r) {
      await withGo(r);
      const text = edit(
        edit(SCHEDULER_GO, `${goBlock(SCHEDULER_GO, "func clamp")}\n`, ""),
        "\treturn clamp(p.Slots, 1, 64)",
        "\treturn min(max(p.Slots, 1), 64)",
      );
      await r.commit("inline clamp", { "sched/scheduler.go": text });
      return undefined;
    },
  },
  {
    name: "Python public function renamed with its callers",
    async build(r) {
      await withPy(r);
      await r.commit("rename", {
        "app/scheduler.py": SCHEDULER_PY.replaceAll("pick_provider", "choose_provider"),
      });
      return undefined;
    },
  },
  {
    name: "Go exported function moved to another file",
    async build(r) {
      await withGo(r);
      const describe = `// Describe formats a provider for logs.\n${goBlock(SCHEDULER_GO, "func Describe")}\n`;
      await r.commit("move", {
        "sched/scheduler.go": edit(SCHEDULER_GO, describe, ""),
        "sched/describe.go": `package sched\n\n${describe}`,
      });
      return undefined;
    },
  },
  {
    name: "JS exported function renamed as the spec asks",
    spec: { body: "Rename `formatBytes` to `formatSize` everywhere." },
    async build(r) {
      await r.commit("rename", { "src/format.js": FORMAT_JS.replace("formatBytes", "formatSize") });
      return undefined;
    },
  },
  {
    name: "exported helper inlined as the spec asks",
    spec: { body: "Inline `legacy_dispatch` into its callers; it is a one-off." },
    async build(r) {
      const { without } = cut(DISPATCH_TS, "export function legacy_dispatch");
      await r.commit("inline", { "src/dispatch.ts": without });
      return undefined;
    },
  },
];
