#!/usr/bin/env node
// The benchmark's agent: a command harness that asks the provider once (so the provider's fault
// profile decides preflights, 429s and 529s), works for the spec's `bench-duration-ms`, then
// commits one file. Plain Node, no build step, so it starts as fast as a CLI can.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const prompt = Buffer.concat(chunks).toString("utf8");
const preflight = prompt.includes("mtor preflight check");

const base = (process.env.ANTHROPIC_BASE_URL ?? "").replace(/\/+$/, "");
const res = await fetch(`${base}/v1/messages`, {
  method: "POST",
  headers: {
    "content-type": "application/json",
    "x-api-key": process.env.ANTHROPIC_API_KEY ?? "",
    "anthropic-version": "2023-06-01",
  },
  body: JSON.stringify({
    model: process.env.MTOR_MODEL ?? "demo",
    max_tokens: 64,
    messages: [{ role: "user", content: prompt }],
  }),
}).catch((err) => {
  console.error(`provider unreachable: ${err.message}`);
  process.exit(1);
});
const body = await res.text();
if (!res.ok) {
  console.error(`provider answered ${res.status}: ${body.slice(0, 200)}`);
  process.exit(1);
}
if (preflight) {
  console.log("ok");
  process.exit(0);
}
const ms = Number(/bench-duration-ms=(\d+)/.exec(prompt)?.[1] ?? "0");
const behaviour = /bench-behaviour=([a-z-]+)/.exec(prompt)?.[1];
if (behaviour === "loop") {
  // A model that loops adding tests: it never stops on its own.
  for (let i = 0; ; i++) {
    const test = `test-${process.pid}-${i}.test.ts`;
    writeFileSync(test, `// test ${i}\n`);
    execFileSync("git", ["add", test]);
    execFileSync("git", ["commit", "-q", "-m", `bench: add ${test}`]);
    await new Promise((r) => setTimeout(r, Math.max(50, ms / 10)));
  }
}
await new Promise((r) => setTimeout(r, ms));
if (behaviour === "delete-function") {
  // A model that deletes a function the spec never asked to remove.
  writeFileSync("src/math.ts", "// math helpers\n");
  execFileSync("git", ["add", "src/math.ts"]);
  execFileSync("git", ["commit", "-q", "-m", "bench: tidy math"]);
  process.exit(0);
}
const name = `bench-${process.pid}-${Date.now()}.txt`;
writeFileSync(name, `work of ${ms} ms\n`);
execFileSync("git", ["add", name]);
execFileSync("git", ["commit", "-q", "-m", `bench: ${name}`]);
