// The run's log as a person reads it: `claude --output-format json` ends with its whole answer
// on one JSON line, so that line becomes the answer's own lines, under a short heading.

interface ResultLine {
  type: "result";
  subtype?: string;
  is_error?: boolean;
  result?: string;
  num_turns?: number;
  duration_ms?: number;
}

function asResult(line: string): ResultLine | null {
  const t = line.trim();
  if (!t.startsWith("{")) return null;
  try {
    const obj = JSON.parse(t) as { type?: unknown };
    return obj && obj.type === "result" ? (obj as ResultLine) : null;
  } catch {
    return null;
  }
}

/** Every line as it was, except a harness result line, which becomes its text. */
export function readableLog(text: string): string {
  if (!text.includes('"result"')) return text;
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const r = asResult(line);
    if (!r) {
      out.push(line);
      continue;
    }
    const facts = [
      r.is_error ? "error" : (r.subtype ?? "done"),
      r.num_turns !== undefined ? `${r.num_turns} turns` : "",
      r.duration_ms !== undefined ? `${(r.duration_ms / 1000).toFixed(1)}s` : "",
    ].filter(Boolean);
    out.push(`harness result (${facts.join(", ")}):`);
    out.push(...(r.result ?? "").trimEnd().split("\n"));
  }
  return out.join("\n");
}
