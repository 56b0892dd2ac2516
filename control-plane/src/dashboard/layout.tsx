// The page shell: mobile-first styles, the bottom navigation reachable with one thumb, and the
// small script that keeps polled fragments live. No external assets: it works offline.

import { usd } from "@mtor/schema/format";
import type { BudgetView } from "@mtor/schema/wire";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";

const CSS = `
*,*::before,*::after{box-sizing:border-box}
:root{--bg:#f6f7f9;--fg:#16181d;--muted:#5d6470;--card:#fff;--line:#dde1e7;--accent:#2458d6;--ok:#1c7c3a;--bad:#b42318;--warn:#9a6700;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#111317;--fg:#e8eaee;--muted:#9aa2ae;--card:#1b1e24;--line:#2c313a;--accent:#7aa2ff;--ok:#5fd08a;--bad:#ff7b72;--warn:#e3b341}}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:anywhere;padding-bottom:calc(4.5rem + env(safe-area-inset-bottom))}
main{max-width:46rem;margin:0 auto;padding:.75rem}
header.top{display:flex;align-items:center;gap:.5rem;padding:.6rem .75rem;background:var(--card);border-bottom:1px solid var(--line)}
header.top h1{font-size:1.05rem;margin:0;flex:1;min-width:0}
h2{font-size:1.05rem;margin:1.1rem 0 .5rem}
a{color:var(--accent)}
.card{display:block;background:var(--card);border:1px solid var(--line);border-radius:.7rem;padding:.7rem .8rem;margin:.5rem 0;color:inherit;text-decoration:none}
a.card:active{background:var(--line)}
.row{display:flex;flex-wrap:wrap;gap:.35rem .6rem;align-items:center}
.title{font-weight:600}
.muted{color:var(--muted);font-size:.88rem}
.badge{display:inline-block;border-radius:1rem;padding:.05rem .55rem;font-size:.8rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.s-queued,.s-leased{color:var(--muted)}.s-running{color:var(--accent)}.s-awaiting_review{color:var(--warn)}
.s-approved{color:var(--ok)}.s-rejected,.s-failed,.s-dead{color:var(--bad)}.s-declined,.s-canceled{color:var(--muted)}
.flag{display:inline-block;font-size:.8rem;border-radius:.3rem;padding:0 .35rem;background:color-mix(in srgb,var(--bad) 14%,transparent);color:var(--bad)}
.flag.review{background:color-mix(in srgb,var(--warn) 16%,transparent);color:var(--warn)}
.chips{display:flex;gap:.4rem;overflow-x:auto;padding:.1rem 0 .4rem;scrollbar-width:none}
.chips a{flex:none;padding:.35rem .8rem;border-radius:1rem;border:1px solid var(--line);background:var(--card);text-decoration:none;color:var(--fg);font-size:.9rem}
.chips a[aria-current=page]{background:var(--accent);border-color:var(--accent);color:#fff}
form{margin:0}
label{display:block;font-size:.9rem;margin:.5rem 0 .2rem;color:var(--muted)}
input,select,textarea,button{font:inherit;color:inherit}
input[type=text],input[type=password],input[type=number],select,textarea{width:100%;max-width:100%;padding:.6rem;border:1px solid var(--line);border-radius:.5rem;background:var(--bg)}
textarea{min-height:14rem;font:14px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
button,.button{display:inline-flex;align-items:center;justify-content:center;min-height:44px;padding:.5rem 1rem;border-radius:.55rem;border:1px solid var(--line);background:var(--card);cursor:pointer;text-decoration:none;color:var(--fg)}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{color:var(--bad);border-color:var(--bad)}
.actions{display:grid;grid-template-columns:1fr 1fr;gap:.5rem;margin:.6rem 0}
.actions form.wide{grid-column:1/-1}
.actions button{width:100%}
.inline{display:flex;gap:.5rem;align-items:end;flex-wrap:wrap}
.inline>*{flex:1 1 7rem}
.check{display:flex;gap:.5rem;align-items:center;color:var(--fg);margin:.5rem 0}
.check input{width:1.3rem;height:1.3rem}
.timeline{margin:.6rem 0;padding:.3rem}
.timeline svg{display:block;width:100%;height:auto}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--bg);border:1px solid var(--line);border-radius:.5rem;padding:.6rem;margin:.4rem 0;max-height:24rem;overflow-y:auto}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .7rem;margin:.3rem 0}
dt{color:var(--muted);font-size:.88rem}dd{margin:0;min-width:0}
.notice{padding:.6rem .8rem;border-radius:.5rem;background:color-mix(in srgb,var(--ok) 14%,var(--card));margin:.5rem 0}
.error{padding:.6rem .8rem;border-radius:.5rem;background:color-mix(in srgb,var(--bad) 14%,var(--card));margin:.5rem 0}
.budget{padding:.3rem .8rem}.budget-line{display:block;font-size:.9rem}.budget-line meter{display:block;width:100%;height:.9rem}
.frozen{padding:.5rem .8rem;background:color-mix(in srgb,var(--warn) 20%,var(--card));font-weight:600;text-align:center}
nav.bottom{position:fixed;left:0;right:0;bottom:0;display:grid;grid-template-columns:repeat(5,1fr);background:var(--card);border-top:1px solid var(--line);padding-bottom:env(safe-area-inset-bottom)}
nav.bottom a{display:flex;flex-direction:column;align-items:center;justify-content:center;min-height:3.6rem;text-decoration:none;color:var(--muted);font-size:.8rem}
nav.bottom a[aria-current=page]{color:var(--accent);font-weight:600}
nav.bottom svg{width:1.4rem;height:1.4rem}
details.patch{margin:.5rem 0}
details.patch>summary,details.pfile>summary{cursor:pointer;padding:.3rem 0}
details.pfile{border:1px solid var(--line);border-radius:.5rem;margin:.4rem 0;padding:0 .5rem;min-width:0}
.pname{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.padd{color:var(--ok);font-weight:600}.pdel{color:var(--bad);font-weight:600}
pre.diff{max-height:none;padding:.3rem 0;border:0;margin:0 0 .4rem}
pre.diff>span{display:block;padding:0 .4rem}
.l-add{background:color-mix(in srgb,var(--ok) 16%,transparent)}
.l-del{background:color-mix(in srgb,var(--bad) 16%,transparent)}
.l-hunk{color:var(--accent);background:color-mix(in srgb,var(--accent) 10%,transparent)}
.l-meta{color:var(--muted)}
.empty{text-align:center;color:var(--muted);padding:2rem 0}
`;

// Elements with data-poll are refreshed from that URL every few seconds while the page is
// visible; one with data-reload-on-change reloads the page when the fragment's key changes.
const SCRIPT = `
(function(){
  var els=document.querySelectorAll('[data-poll]');
  els.forEach(function(el){
    var busy=false;
    setInterval(function(){
      if(document.hidden||busy)return;busy=true;
      fetch(el.getAttribute('data-poll'),{credentials:'same-origin',headers:{accept:'text/html'}})
        .then(function(r){return r.ok?r.text():null})
        .then(function(html){
          if(html===null)return;
          if(el.hasAttribute('data-reload-on-change')){
            var m=/data-key="([^"]*)"/.exec(html);
            var before=el.querySelector('[data-key]');
            var active=document.activeElement;
            var typing=active&&(active.tagName==='TEXTAREA'||active.tagName==='INPUT');
            if(m&&before&&before.getAttribute('data-key')!==m[1]&&!typing){location.reload();return}
          }
          el.innerHTML=html;
        })
        .catch(function(){})
        .finally(function(){busy=false});
    },3000);
  });
})();
`;

const icons: Record<string, string> = {
  queue: "M4 6h16M4 12h16M4 18h10",
  dispatch: "M12 5v14M5 12h14",
  fleet: "M4 7h16v4H4zM4 13h16v4H4z",
  gates: "M6 4v16M18 4v16M6 9h12M6 15h12",
  report: "M6 3h9l4 4v14H6zM9 12h7M9 16h7",
};

export type Section = "queue" | "dispatch" | "fleet" | "gates" | "report" | "login";

export function Layout(props: {
  title: string;
  section: Section;
  nonce: string;
  frozen?: boolean;
  /** Why claims are held (the review backlog), shown as a banner on every page that knows. */
  held?: string;
  /** The claim reason the banner stands for. */
  heldReason?: string;
  /** Tonight's spend against the budgets, drawn as bars. */
  budget?: BudgetView;
  children?: Child;
}) {
  const nav: [Section, string, string][] = [
    ["queue", "/", "Queue"],
    ["dispatch", "/dispatch", "Dispatch"],
    ["fleet", "/fleet", "Fleet"],
    ["gates", "/gates", "Gates"],
    ["report", "/report", "Report"],
  ];
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
        <meta name="color-scheme" content="light dark" />
        <link rel="icon" href="data:," />
        <title>{props.title} · mtor</title>
        <style nonce={props.nonce}>{raw(CSS)}</style>
      </head>
      <body>
        <header class="top">
          <h1>
            <a href="/" style="color:inherit;text-decoration:none">
              mtor
            </a>{" "}
            <span class="muted">· {props.title}</span>
          </h1>
          {props.section !== "login" && (
            <form method="post" action="/logout">
              <button type="submit" style="min-height:36px;padding:.2rem .7rem">
                Log out
              </button>
            </form>
          )}
        </header>
        {props.frozen && <div class="frozen">Fleet frozen: no new claims</div>}
        {props.held && (
          <div class="frozen" data-held={props.heldReason ?? "review_backlog"}>
            {props.held}
          </div>
        )}
        <BudgetBars budget={props.budget} />
        <main>{props.children}</main>
        {props.section !== "login" && (
          <nav class="bottom" aria-label="Sections">
            {nav.map(([key, href, label]) => (
              <a href={href} aria-current={props.section === key ? "page" : undefined}>
                <svg
                  viewBox="0 0 24 24"
                  fill="none"
                  stroke="currentColor"
                  stroke-width="2"
                  aria-hidden="true"
                >
                  <path d={icons[key]} />
                </svg>
                {label}
              </a>
            ))}
          </nav>
        )}
        <script nonce={props.nonce}>{raw(SCRIPT)}</script>
      </body>
    </html>
  );
}

/** A hidden CSRF field for every form. */
export const Csrf = (props: { token: string }) => <input type="hidden" name="_csrf" value={props.token} />;

/** A form that posts one whole number: a provider's slots, a review backlog limit. */
export function NumberForm(props: {
  action: string;
  csrf: string;
  name: string;
  min: number;
  max: number;
  value: number;
  label: string;
  button: string;
  style?: string;
}) {
  return (
    <form method="post" action={props.action} class="inline" style={props.style}>
      <Csrf token={props.csrf} />
      <input
        type="number"
        name={props.name}
        min={String(props.min)}
        max={String(props.max)}
        value={String(props.value)}
        aria-label={props.label}
      />
      <button type="submit">{props.button}</button>
    </form>
  );
}

/** The outcome of the last action on a page: a notice read out politely, an error at once. */
export function Notices(props: { notice?: string; error?: string }) {
  return (
    <>
      {props.notice && (
        <div class="notice" role="status">
          {props.notice}
        </div>
      )}
      {props.error && (
        <div class="error" role="alert">
          {props.error}
        </div>
      )}
    </>
  );
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge s-${props.status}`}>{props.status.replace("_", " ")}</span>;
}

export function Flags(props: {
  flags: readonly { gate: string; action: string; detail?: string }[] | null | undefined;
}) {
  if (!props.flags || props.flags.length === 0) return null;
  return (
    <span class="row">
      {props.flags.map((f) => (
        <span class={`flag ${f.action === "review" ? "review" : ""}`} title={f.detail}>
          {f.gate}
        </span>
      ))}
    </span>
  );
}

/**
 * Tonight's spend against each budget as a bar: a <meter>, drawn by the browser with no script
 * and no style the CSP would refuse. Nothing when no budget is set.
 */
export function BudgetBars(props: { budget?: BudgetView }) {
  const b = props.budget;
  const lines = b ? [...(b.fleet ? [b.fleet] : []), ...b.providers] : [];
  if (lines.length === 0) return null;
  return (
    <section class="budget" aria-label="Spend budget">
      {lines.map((l) => {
        const budget = l.budget_usd + l.raised_usd;
        const who = l.provider ? `Provider ${l.provider}` : "Fleet";
        const state = l.holding
          ? " — budget reached: new runs wait"
          : l.resumed_until
            ? ` — resumed until ${l.resumed_until.slice(11, 16)} UTC`
            : "";
        return (
          <label
            class="budget-line"
            data-budget={l.provider ?? "fleet"}
            data-holding={l.holding ? "yes" : "no"}
          >
            <span>
              {who}: {usd(l.spend_usd)} of {usd(budget)} tonight
              {l.raised_usd ? ` (${usd(l.raised_usd)} raised)` : ""}
              {state}
            </span>
            <meter
              min={0}
              max={budget}
              low={budget * 0.75}
              high={budget * 0.9}
              optimum={0}
              value={l.spend_usd}
            >
              {Math.round((100 * l.spend_usd) / budget)}%
            </meter>
          </label>
        );
      })}
    </section>
  );
}
