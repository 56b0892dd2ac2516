// The dashboard in headless Chromium against the local stack with the demo provider: log in
// with the token, dispatch from the form, watch the spec reach review, approve it with a grade,
// read the change file by file, find the grade and the night's timeline in the report, and check
// every page fits a 390×844 phone with no sideways scroll.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, REPO_ROOT } from "../../src/local/control-plane";
import { type Stack, startStack } from "../../src/up/stack";

const CHROMIUM = process.env.MTOR_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(REPO_ROOT, "test-artifacts");

let stack: Stack | undefined;
let browser: Browser | undefined;
let stateDir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `headless Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) or set MTOR_CHROMIUM`,
    );
  }
  stateDir = mkdtempSync(join(tmpdir(), "mtor-browser-"));
  const log: string[] = [];
  // The demo model, whatever keys the environment holds; load sensing relaxed because the
  // test shares the box with the rest of the suite.
  stack = await startStack({
    stateDir,
    port: await freePort(),
    env: { ...process.env, MTOR_DEMO: "1" },
    log: (l) => log.push(l),
    cpuCores: 256,
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

async function fitsThePhone(page: Page): Promise<void> {
  const [scrollWidth, innerWidth] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  expect(innerWidth).toBe(390);
  expect(scrollWidth, `${page.url()} scrolls sideways`).toBeLessThanOrEqual(innerWidth);
}

it("log in, dispatch, review, approve, report — one-handed at 390×844", { timeout: 240_000 }, async () => {
  if (!stack || !browser) throw new Error("stack or browser did not start");
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });

  // Not logged in: every page sends you to the login form.
  await page.goto(`${stack.url}/`);
  expect(new URL(page.url()).pathname).toBe("/login");
  await fitsThePhone(page);
  await page.fill("#token", "not-the-token");
  await page.click('form[action="/login"] button');
  await expect.poll(() => page.textContent("[role=alert]")).toContain("That token was refused");
  await page.fill("#token", stack.token);
  await page.click('form[action="/login"] button');
  await page.waitForURL(`${stack.url}/`);
  const [cookie] = await context.cookies();
  expect(cookie).toMatchObject({ name: "mtor_session", httpOnly: true, secure: true, sameSite: "Strict" });
  errors.length = 0; // the refused login above answered 401 on purpose

  // Dispatch from the form.
  await page.click('nav.bottom a[href="/dispatch"]');
  await page.waitForURL(`${stack.url}/dispatch`);
  await fitsThePhone(page);
  await page.fill(
    "#spec",
    [
      "---",
      "title: Freeze switch from the phone",
      "repo: sandbox",
      "targets: [src/freeze.js]",
      "tests: [test_frozen_provider_gets_no_claims]",
      "stop: Stop after this one test passes.",
      "---",
      "Add a function to src/freeze.js that decides whether a claim may go to a provider.",
    ].join("\n"),
  );
  await page.click('form[action="/dispatch"] button[type=submit]');
  await page.waitForURL(/\/specs\/[a-z0-9]+\?done=dispatched$/);
  const id = new URL(page.url()).pathname.split("/").pop() as string;
  await expect.poll(() => page.textContent("[role=status]")).toContain("Dispatched.");

  // The page follows the run by itself (polling), until the spec awaits review.
  await page.waitForSelector("#live .s-awaiting_review", { timeout: 150_000 });
  await expect.poll(() => page.textContent(".diffstat")).toMatch(/\d+ files? \+\d+ -\d+/);
  expect(await page.textContent(`[data-run]`)).toContain("passed");
  await fitsThePhone(page);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-spec-390x844.png") });

  // The change itself, as the executor's verdict carried it: the file's section with its
  // counts, added lines on a green ground, wrapped inside the phone's width.
  await expect.poll(() => page.locator("details.patch .l-add").count()).toBeGreaterThan(0);
  expect(await page.textContent("details.patch .pname")).toContain("src/freeze.js");
  expect(await page.textContent("details.patch .padd")).toMatch(/^\+[1-9]\d*$/);
  const added = await page.evaluate(() => {
    const line = document.querySelector("details.patch .l-add") as HTMLElement;
    const pre = line.closest("pre") as HTMLElement;
    return {
      text: line.textContent,
      background: getComputedStyle(line).backgroundColor,
      wrap: getComputedStyle(pre).whiteSpace,
      overflows: Array.from(document.querySelectorAll("pre.diff")).some((p) => p.scrollWidth > p.clientWidth),
    };
  });
  expect(added.text).toMatch(/^\+/);
  // Green ground: more green than red in the tint (the light scheme's --ok is #1c7c3a).
  const [r, g] = (added.background.match(/[\d.]+/g) ?? []).map(Number);
  expect(g, added.background).toBeGreaterThan(r);
  expect(added.wrap).toBe("pre-wrap");
  expect(added.overflows).toBe(false);
  await page.locator("details.patch").scrollIntoViewIfNeeded();
  await fitsThePhone(page);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-patch-390x844.png"), fullPage: true });

  // Approve with a grade.
  await page.selectOption("#grade", "A");
  await page.fill("#approve-note", "clean, small change");
  await page.click('form[action$="/approve"] button[type=submit]');
  await page.waitForURL(new RegExp(`/specs/${id}\\?done=approved$`));
  await expect.poll(() => page.textContent("[role=status]")).toContain("Approved.");
  expect(await page.textContent("#live")).toContain("approved");

  // The queue lists it; the report carries the grade.
  await page.click('nav.bottom a[href="/"]');
  await page.waitForSelector(`[data-spec="${id}"][data-status="approved"]`);
  await fitsThePhone(page);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-390x844.png") });

  await page.click('nav.bottom a[href="/report"]');
  await page.waitForURL(`${stack.url}/report`);
  expect(await page.textContent(`[data-report-spec="${id}"]`)).toContain("grade A");
  const report = (await page.textContent("#report")) ?? "";
  expect(report).toMatch(new RegExp(`${id}\\s+approved\\s+A\\b`));
  await fitsThePhone(page);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-report-390x844.png") });
  // The night's timeline, drawn on the server: the demo provider's slot lanes, the approved
  // spec's run as a passed bar, the backlog line and the legend, scaled to the phone's width
  // with its text still readable.
  const timeline = page.locator("#report-timeline svg");
  const box = await timeline.boundingBox();
  expect(box?.width).toBeGreaterThan(330);
  expect(box?.width).toBeLessThanOrEqual(390);
  expect(await timeline.locator("text", { hasText: /^demo 1$/ }).count()).toBe(1);
  const bar = timeline.locator(".run-passed", { hasText: "Freeze switch from the phone" });
  expect(await bar.count()).toBeGreaterThanOrEqual(1);
  expect((await bar.first().boundingBox())?.width).toBeGreaterThan(0);
  expect(await timeline.locator(".backlog-line").count()).toBe(1);
  expect(await timeline.locator(".legend").textContent()).toContain("breaker open");
  const label = await timeline.locator("text", { hasText: /^demo 1$/ }).boundingBox();
  expect(label?.height, "lane labels readable at 390 px").toBeGreaterThanOrEqual(8);
  await page.locator("#report-timeline").screenshot({ path: join(ARTIFACTS, "dashboard-timeline-390.png") });

  await page.click('nav.bottom a[href="/fleet"]');
  await page.waitForURL(`${stack.url}/fleet`);
  expect(await page.textContent('[data-provider="demo"]')).toContain("slots in use");
  expect(await page.textContent('[data-executor="local"]')).toContain("active");
  await fitsThePhone(page);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-fleet-390x844.png"), fullPage: true });

  // A fleet budget set from the fleet page: the queue draws tonight's spend against it as a bar,
  // a <meter> the browser renders under the page's CSP, across the phone's width.
  const budgetForm = page.locator('form[action="/fleet/settings"]:has(input[name=kind][value=budget])');
  await budgetForm.locator("input[name=budget_usd]").fill("5");
  await budgetForm.locator("button[type=submit]").click();
  await page.waitForURL(`${stack.url}/fleet?done=settings`);
  await page.click('nav.bottom a[href="/"]');
  await page.waitForURL(`${stack.url}/`);
  const meter = page.locator('[data-budget="fleet"] meter');
  expect(await meter.getAttribute("max")).toBe("5");
  expect(Number(await meter.getAttribute("value"))).toBeGreaterThan(0);
  expect((await meter.boundingBox())?.width).toBeGreaterThan(300);
  expect(await page.textContent('[data-budget="fleet"]')).toMatch(/Fleet: \$\d+\.\d\d of \$5\.00 tonight/);
  await fitsThePhone(page);
  await page.screenshot({ path: join(ARTIFACTS, "dashboard-budget-390x844.png") });
  await page.click('nav.bottom a[href="/gates"]');
  await page.waitForURL(`${stack.url}/gates`);
  expect(await page.textContent('[data-gate="destruction"]')).toContain("destruction");
  await fitsThePhone(page);

  expect(errors).toEqual([]);
  await context.close();
});
