// The prompt a harness receives for a run, and the preflight probe's prompt.
import type { Spec } from "@mtor/schema";

/** The preflight probe: the harness must answer with exactly `ok`. */
export const PREFLIGHT_PROMPT =
  "mtor preflight check. Reply with exactly the two letters ok and nothing else. Do not use any tools.";

const DEMO_DIRECTIVE = /<!--\s*mtor-demo:[^>]*?-->/;

/**
 * The preflight prompt for a spec: PREFLIGHT_PROMPT, plus the spec's `<!-- mtor-demo: … -->`
 * directive if it has one, so the demo provider answers the probe with the spec's script.
 */
export function buildPreflightPrompt(body?: string): string {
  const directive = body ? DEMO_DIRECTIVE.exec(body) : null;
  return directive ? `${PREFLIGHT_PROMPT}\n\n${directive[0]}` : PREFLIGHT_PROMPT;
}

/** Headings the prompt uses; the demo provider reads the lists under them. */
export const TARGETS_HEADING = "Targets:";
export const TESTS_HEADING = "Tests to add:";

export const RULES: readonly string[] = [
  "Work on the current branch of this git repository; do not create or switch branches.",
  "Commit your work with git (git add, then git commit) before you finish.",
  "Never push: do not run git push or change any remote.",
  "Never touch other branches: do not check out, reset, commit to, merge into or delete them.",
  "Do not delete or replace existing functions, methods or classes unless these instructions tell you to.",
  "Add exactly the tests named above and no others.",
];

type PromptSpec = Pick<Spec, "body" | "targets" | "tests" | "stop"> & { title?: string };

/**
 * Builds the run's prompt: the spec body (any `<!-- mtor-demo: … -->` directive kept), the
 * targets and tests by exact name, the fixed rules, the stop condition verbatim, then the
 * previous attempt's feedback.
 */
export function buildPrompt(spec: PromptSpec, feedback: readonly string[] = []): string {
  const parts: string[] = [];
  const body = spec.body.trim();
  if (spec.title && !body.includes(spec.title)) parts.push(`# ${spec.title}`);
  if (body) parts.push(body);

  if (spec.targets && spec.targets.length > 0) {
    parts.push([TARGETS_HEADING, ...spec.targets.map((t) => `- ${t}`)].join("\n"));
  }
  if (spec.tests && spec.tests.length > 0) {
    parts.push([TESTS_HEADING, ...spec.tests.map((t) => `- ${t}`)].join("\n"));
  }

  const rules =
    spec.tests && spec.tests.length > 0 ? RULES : RULES.filter((r) => !r.startsWith("Add exactly"));
  parts.push(["Rules:", ...rules.map((r) => `- ${r}`)].join("\n"));

  if (spec.stop) parts.push(`Stop condition: ${spec.stop}`);

  const notes = feedback.map((f) => f.trim()).filter(Boolean);
  if (notes.length > 0) {
    parts.push(
      [
        "Feedback from the previous attempt (fix these):",
        ...notes.map((f) => `- ${f.replace(/\n/g, "\n  ")}`),
      ].join("\n"),
    );
  }
  return `${parts.join("\n\n")}\n`;
}
