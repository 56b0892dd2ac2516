// What a spec asks to happen to the code it names: which symbols and paths it asks to remove or
// replace (the front matter's `removes`, or prose where a removal verb governs the name) and
// which it asks to add to or change. Shared by the `destruction` gate and `spec_lint`.

/** What the spec asks for one name it mentions. */
export type IntentKind = "remove" | "extend" | "keep";

export interface Mention {
  /** The name as written, without backticks, quotes or a trailing `()`. */
  name: string;
  kind: IntentKind;
  /** The verb that governs it, as a lemma ("remove", "add", "log"); none for a bare mention. */
  verb?: string;
  /** Where the verb came from: the front matter's `removes` or the body's prose. */
  from: "removes" | "prose";
}

export interface Intent {
  /** Every name the spec mentions with what it asks for it; the strongest reading per name. */
  mentions: Mention[];
}

/** Removal verbs: the only ones that license deleting or gutting what they govern. */
const REMOVE_VERBS: Record<string, string> = {
  remove: "remove",
  removes: "remove",
  removed: "remove",
  removing: "remove",
  delete: "delete",
  deletes: "delete",
  deleted: "delete",
  deleting: "delete",
  drop: "drop",
  drops: "drop",
  dropped: "drop",
  dropping: "drop",
  replace: "replace",
  replaces: "replace",
  replaced: "replace",
  replacing: "replace",
  rewrite: "rewrite",
  rewrites: "rewrite",
  rewrote: "rewrite",
  rewritten: "rewrite",
  rewriting: "rewrite",
  inline: "inline",
  inlines: "inline",
  inlined: "inline",
  inlining: "inline",
  rename: "rename",
  renames: "rename",
  renamed: "rename",
  renaming: "rename",
};

/** Verbs that ask to keep a symbol and add to or change it. */
const EXTEND_VERBS = new Set([
  "add",
  "extend",
  "change",
  "modify",
  "update",
  "fix",
  "improve",
  "adjust",
  "tweak",
  "log",
  "handle",
  "support",
  "teach",
  "wire",
  "make",
  "let",
  "call",
  "use",
  "refactor",
  "guard",
  "check",
  "validate",
  "record",
  "emit",
  "pass",
  "thread",
  "accept",
  "return",
  "raise",
  "throw",
  "include",
  "expose",
  "document",
  "test",
  "cover",
  "honour",
  "honor",
  "respect",
  "apply",
  "implement",
  "move",
  "split",
  "extract",
  "optimise",
  "optimize",
  "speed",
]);

/** Verbs that ask to leave a symbol as it is. */
const KEEP_VERBS = new Set(["keep", "preserve", "leave", "retain", "protect"]);

/** Words that negate the verb after them in the same clause. */
const NEGATIONS = new Set([
  "cannot",
  "not",
  "never",
  "don't",
  "dont",
  "doesn't",
  "without",
  "no",
  "nor",
  "avoid",
]);

/**
 * Words after which the mentions no longer are the verb's object: `replace a with b`,
 * `remove the check in b`, `inline a into b`, `rename a to b`.
 */
const OBJECT_ENDS = new Set([
  "with",
  "by",
  "into",
  "to",
  "in",
  "from",
  "inside",
  "within",
  "of",
  "for",
  "on",
  "at",
  "after",
  "before",
  "when",
  "where",
  "while",
  "if",
  "so",
  "because",
  "that",
  "which",
  "than",
  "instead",
  "using",
  "via",
  "around",
  "across",
  "through",
  "under",
  "over",
]);

const DETERMINERS = new Set([
  "a",
  "an",
  "the",
  "this",
  "that",
  "its",
  "their",
  "our",
  "your",
  "each",
  "every",
]);

const PASSIVE = new Set(["is", "are", "be", "been", "was", "were", "gets", "get"]);

type Token =
  | { t: "word"; w: string }
  | { t: "name"; name: string }
  | { t: "break"; bullet: boolean }
  | { t: "colon" };

/** A bare word that reads as code: snake_case, camelCase, dotted, a path or a call. */
function codeLike(word: string, call: boolean): boolean {
  if (call) return /^[A-Za-z_$][\w$.]*$/.test(word);
  if (word.includes("/")) return /^[\w.$/-]+$/.test(word) && /[\w]/.test(word);
  if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(word)) {
    // `Queue.claim`, not `e.g` or a file name like `notes.md` (that counts as a path below).
    return /[a-z][A-Z]|_|^[A-Z]/.test(word) || /\.(?:[cm]?[jt]sx?|py|go|rs)$/.test(word);
  }
  return /_/.test(word) || /[a-z][A-Z]/.test(word);
}

function cleanName(raw: string): string {
  return raw
    .trim()
    .replace(/\(.*\)$/s, "")
    .replace(/^(?:def|func|function|class|fn|method)\s+/, "")
    .replace(/[.,:;]+$/, "")
    .trim();
}

function tokenize(body: string): Token[] {
  const out: Token[] = [];
  // Code spans and quoted strings are names; fenced code blocks say nothing about intent.
  const text = body.replace(/```[\s\S]*?(?:```|$)/g, "\n");
  const re =
    /`([^`\n]+)`|"([^"\n]{1,200})"|\u201c([^\u201d\n]{1,200})\u201d|([A-Za-z_$][\w$./-]*[\w$]|[A-Za-z_$])(\s*\()?|(\n(?:[ \t]*\n)*[ \t]*(?:[-*+]|\d+[.)])[ \t])|([.!?;](?=\s|$)|\n[ \t]*\n)|(:)(?=\s|$)|(\S)/g;
  for (const m of text.matchAll(re)) {
    if (m[1] !== undefined || m[2] !== undefined || m[3] !== undefined) {
      const name = cleanName(m[1] ?? m[2] ?? m[3] ?? "");
      if (name) out.push({ t: "name", name });
    } else if (m[4] !== undefined) {
      const w = m[4];
      if (codeLike(w, m[5] !== undefined)) out.push({ t: "name", name: w });
      else out.push({ t: "word", w: w.toLowerCase() });
    } else if (m[6] !== undefined) {
      out.push({ t: "break", bullet: true });
    } else if (m[7] !== undefined) {
      out.push({ t: "break", bullet: false });
    } else if (m[8] !== undefined) {
      out.push({ t: "colon" });
    }
  }
  return out;
}

/** "don't" arrives as "don" "t": the first half negates. */
function isNegation(tokens: Token[], i: number): boolean {
  const tok = tokens[i];
  if (tok.t !== "word") return false;
  if (NEGATIONS.has(tok.w)) return true;
  const next = tokens[i + 1];
  return /^(?:don|doesn|mustn|shouldn|won|can)$/.test(tok.w) && next?.t === "word" && next.w === "t";
}

/** Words that start a new clause: a negation before them no longer applies. */
const CLAUSE_STARTS = new Set(["but", "then", "however", "also", "instead", "and"]);

/**
 * Reads what the spec asks for each name it mentions. `removes` entries are removals outright;
 * in the body a name governed by a removal verb is a removal, unless the verb is negated ("do
 * not remove `x`"). Names after a preposition (`replace a with b`, `remove the check in b`)
 * are what the change works in, not what it removes.
 */
export function readIntent(body: string, removes: readonly string[] = []): Intent {
  const found: Mention[] = removes
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => ({ name, kind: "remove" as const, from: "removes" as const }));
  const tokens = tokenize(body ?? "");
  let verb: { lemma: string; kind: IntentKind } | undefined;
  let listVerb: { lemma: string; kind: IntentKind } | undefined;
  let negated = false;
  let negationUsed = false;
  let objectOpen = false;
  // Names not governed by a verb yet, for the passive ("`x` should be removed").
  let pending: { name: string; at: number }[] = [];
  let namesSinceVerb = 0;
  const setVerb = (lemma: string, kind: IntentKind, i: number) => {
    const prev = tokens[i - 1];
    // "a drop shadow", "the inline cache": a verb's spelling used as a noun or adjective.
    if (prev?.t === "word" && DETERMINERS.has(prev.w)) return;
    // "add a cooldown check to": the clause's first verb governs it.
    if (kind === "extend" && verb?.kind === "extend" && objectOpen && namesSinceVerb === 0) return;
    namesSinceVerb = 0;
    if (negationUsed && prev?.t === "word" && CLAUSE_STARTS.has(prev.w)) negated = false;
    if (negated) negationUsed = true;
    verb = { lemma, kind };
    objectOpen = true;
    pending = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok.t === "colon") {
      // "Remove these:" followed by a list: each item is governed by the verb.
      listVerb = verb && !negated ? verb : undefined;
      continue;
    }
    if (tok.t === "break") {
      if (tok.bullet && listVerb) {
        verb = listVerb;
        negated = false;
        objectOpen = true;
        pending = [];
        continue;
      }
      if (!tok.bullet) listVerb = undefined;
      verb = undefined;
      negated = false;
      negationUsed = false;
      objectOpen = false;
      pending = [];
      continue;
    }
    if (tok.t === "name") {
      namesSinceVerb++;
      if (verb && objectOpen) {
        found.push({ name: tok.name, kind: negated ? "keep" : verb.kind, verb: verb.lemma, from: "prose" });
      } else {
        found.push({ name: tok.name, kind: "extend", verb: verb?.lemma, from: "prose" });
        pending.push({ name: tok.name, at: i });
      }
      continue;
    }
    const w = tok.w;
    if (isNegation(tokens, i)) {
      negated = true;
      negationUsed = false;
      verb = undefined;
      objectOpen = false;
      continue;
    }
    if (w === "but" || w === "however") {
      negated = false;
      verb = undefined;
      objectOpen = false;
      continue;
    }
    const removal = REMOVE_VERBS[w];
    if (removal) {
      const prev = tokens[i - 1];
      const near = pending.filter((p) => i - p.at <= 6);
      if (prev?.t === "word" && PASSIVE.has(prev.w) && near.length > 0) {
        for (const p of near) {
          found.push({ name: p.name, kind: negated ? "keep" : "remove", verb: removal, from: "prose" });
        }
        pending = [];
        continue;
      }
      setVerb(removal, "remove", i);
      continue;
    }
    if (KEEP_VERBS.has(w)) {
      setVerb(w, "keep", i);
      negated = false;
      continue;
    }
    if (EXTEND_VERBS.has(w)) {
      setVerb(w, "extend", i);
      continue;
    }
    if (OBJECT_ENDS.has(w)) objectOpen = false;
  }
  // One reading per name: `removes` first, then an explicit keep (a negation), then a removal,
  // then a mention that asks to add to or change it.
  const rank: Record<IntentKind, number> = { keep: 3, remove: 2, extend: 1 };
  const best = new Map<string, Mention>();
  for (const m of found) {
    const cur = best.get(m.name);
    const better =
      !cur ||
      (m.from === "removes" && cur.from !== "removes") ||
      (cur.from !== "removes" && rank[m.kind] > rank[cur.kind]) ||
      (cur.from !== "removes" && m.kind === cur.kind && !cur.verb && m.verb !== undefined);
    if (better) best.set(m.name, m);
  }
  return { mentions: [...best.values()] };
}

/** Normalises a path the way specs write them: no leading `./` or `/`, no trailing `/`. */
function normPath(p: string): string {
  return p.replace(/^\.?\/+/, "").replace(/\/+$/, "");
}

/** Whether a mention names this symbol: its qualified name, or its last segment. */
export function mentionNamesSymbol(
  mention: string,
  symbol: { name: string; simpleName: string; file?: string },
): boolean {
  const m = mention.replace(/^(?:get|set)\s+/, "");
  if (m === symbol.name || m === symbol.simpleName) return true;
  // `Queue.claim` written as `Queue#claim` or `Queue::claim`, or qualified by module.
  const dotted = m.replace(/#|::/g, ".");
  if (dotted === symbol.name) return true;
  if (symbol.name.includes(".") && dotted.endsWith(`.${symbol.name}`)) return true;
  // `src/queue.ts:claim` names a symbol in a file.
  const colon = /^(.+\.[\w]+):([\w$.]+)$/.exec(m);
  if (colon && symbol.file && normPath(colon[1]) === normPath(symbol.file)) {
    return colon[2] === symbol.name || colon[2] === symbol.simpleName;
  }
  return false;
}

/** Whether a mention names this path: the file itself or a directory above it. */
export function mentionNamesPath(mention: string, path: string): boolean {
  if (!/[/.]/.test(mention)) return false;
  const m = normPath(mention);
  const p = normPath(path);
  if (m === "" || m === ".") return false;
  if (m === p || p.startsWith(`${m}/`)) return true;
  // A bare file name (`legacy.ts`) names that file wherever it is.
  return !m.includes("/") && p.split("/").pop() === m;
}

/** What the intent says about a symbol: the mention that governs it, if any. */
export function intentFor(
  intent: Intent,
  symbol: { name: string; simpleName: string; file: string },
): Mention | undefined {
  let best: Mention | undefined;
  for (const m of intent.mentions) {
    const hit = mentionNamesSymbol(m.name, symbol) || mentionNamesPath(m.name, symbol.file);
    if (!hit) continue;
    // A removed file or directory covers its symbols only through a removal.
    if (!mentionNamesSymbol(m.name, symbol) && m.kind !== "remove") continue;
    if (!best || m.from === "removes" || (best.from !== "removes" && m.kind === "keep")) best = m;
  }
  return best;
}

/** Whether the spec asks for this symbol to be removed or replaced. */
export function removesSymbol(
  intent: Intent,
  symbol: { name: string; simpleName: string; file: string },
): boolean {
  return intentFor(intent, symbol)?.kind === "remove";
}

/** Whether the spec asks for this file (or a directory above it) to be removed. */
export function removesPath(intent: Intent, path: string): boolean {
  let verdict = false;
  for (const m of intent.mentions) {
    if (!mentionNamesPath(m.name, path)) continue;
    if (m.kind === "keep" && m.from !== "removes") return false;
    if (m.kind === "remove") verdict = true;
  }
  return verdict;
}
