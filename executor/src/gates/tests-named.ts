// The `tests_missing` and `tests_extra` gates: the tests a change adds against the spec's
// `tests`, exactly (qualified spellings such as `suite > name` or `Class::test_x` count).
import type { Change } from "./change";
import { headPath } from "./change";
import { addedTests, type FoundTest, nameMatches } from "./test-names";
import type { Finding } from "./types";

const LIST_MAX = 6;

export function testsAdded(ch: Change): FoundTest[] {
  const found: FoundTest[] = [];
  for (const f of ch.files) {
    const hp = headPath(f);
    if (!hp) continue;
    const text = ch.after.get(hp);
    const added = ch.added.get(hp);
    if (!text || !added || added.size === 0) continue;
    found.push(...addedTests(hp, text, added));
  }
  return found;
}

export function checkTestNames(
  found: FoundTest[],
  named: readonly string[] | undefined,
): {
  missing: Finding[];
  extra: Finding[];
} {
  const wanted = named ?? [];
  const missingNames = wanted.filter((n) => !found.some((t) => nameMatches(n, t)));
  const missing: Finding[] =
    missingNames.length === 0
      ? []
      : [
          {
            gate: "tests_missing",
            detail: `named in the spec but not added: ${list(missingNames.map((n) => `\`${n}\``))}`,
            facts: { kind: "tests_missing", tests: missingNames },
          },
        ];
  if (!named || named.length === 0) return { missing, extra: [] };
  // A test inside a describe block the spec names is part of it; describe blocks themselves
  // are groupings, never extra.
  const namedGroups = found.filter((t) => t.group && wanted.some((n) => nameMatches(n, t)));
  const inNamedGroup = (t: FoundTest) =>
    namedGroups.some(
      (g) => g.file === t.file && t.scope.length > g.scope.length && t.scope[g.scope.length] === g.name,
    );
  const extras = found.filter((t) => !t.group && !wanted.some((n) => nameMatches(n, t)) && !inNamedGroup(t));
  const extra: Finding[] =
    extras.length === 0
      ? []
      : [
          {
            gate: "tests_extra",
            detail: `${extras.length === 1 ? "1 test" : `${extras.length} tests`} added beyond the spec's: ${list(
              extras.map((t) => `\`${t.name}\` (${t.file})`),
            )}; the spec names ${list(
              wanted.map((n) => `\`${n}\``),
              20,
            )}`,
            facts: { kind: "tests_extra", extra: extras.map((t) => t.name), named: [...wanted] },
          },
        ];
  return { missing, extra };
}

function list(items: string[], max = LIST_MAX): string {
  if (items.length <= max) return items.join(", ");
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}
