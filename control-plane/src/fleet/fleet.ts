// The Fleet Durable Object: one per deployment, holding the queue, providers, executors and
// leases in SQLite. The Worker calls its typed RPC methods; errors come back as values.

import { DurableObject } from "cloudflare:workers";
import type { GateName, GateSetting } from "@mtor/schema/gates";
import { parseExecutorKeys } from "@mtor/schema/signing";
import type { TimelineInput } from "@mtor/schema/timeline";
import type {
  ApproveRequest,
  ClaimRequest,
  ClaimResponse,
  DeclineRequest,
  ExecutorView,
  FleetSettingsUpdate,
  GateUpdate,
  HeartbeatRequest,
  HeartbeatResponse,
  ProviderUpdate,
  ProviderView,
  SettingsView,
  SpecDetail,
  SpecList,
  SpecSummary,
  StatusView,
  VerdictRequest,
  VerdictResponse,
} from "@mtor/schema/wire";
import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "../../drizzle/migrations";
import type { ActionClaims, BudgetAction } from "../actions/links";
import { actionTarget, budgetLinkTarget, linkUsedAt, useActionLink, useBudgetLink } from "../actions/use";
import { type Clock, systemClock } from "../core/clock";
import { type Db, type Deps, tables } from "../core/db";
import { SpendLedger } from "../core/spend";
import { readTimings } from "../core/timings";
import { ApiError, type Result } from "../errors";
import { lastPass, type MonitorPassResult, monitorChangedAnything, runMonitorPass } from "../monitor/pass";
import { buildReport } from "../report/build";
import { timelineInput } from "../report/timeline";
import { allowPrivate, runWebhookAlarm, sendTestDelivery } from "../webhooks/deliver";
import {
  createEndpoint,
  type DeliveryView,
  deleteEndpoint,
  deliveryView,
  listDeliveries,
  listEndpoints,
  redeliver,
  type WebhookCreateInput,
} from "../webhooks/endpoints";
import { budgetHold, budgetView } from "./budget";
import { FleetCache } from "./cache";
import {
  fleetSettings,
  putFleetSettings,
  putProviderControls,
  reviewBacklog,
  settingsView,
  windowsAt,
} from "./controls";
import { claimRuns } from "./dispatch-rule";
import { listExecutors, setDraining } from "./executors";
import { syncWindowPeriods } from "./history";
import { beginIdempotent, type DispatchOutcome, finishIdempotent, type IdempotencyRef } from "./idempotency";
import { EXPIRE_BATCH, expireLeases, heartbeat, nextLeaseExpiry, type SignedBy, verdict } from "./leases";
import { acceptSigner, type Signer } from "./nonces";
import {
  deleteProvider,
  listProviders,
  nextProviderChange,
  oneProvider,
  putProvider,
  setProviderFrozen,
} from "./providers";
import {
  approve,
  countsByStatus,
  type DispatchInput,
  decline,
  dispatch,
  kill,
  type ListQuery,
  listSpecs,
  retry,
  showSpec,
} from "./queue";
import { gateSettings, isFrozen, setFrozen, setGate } from "./settings";
import { Waiters } from "./waiters";

/** What a null `monitor` means, for someone running the Worker without its cron. */
export const NO_MONITOR_HINT =
  "no monitor pass has run yet: until the cron trigger fires, expired leases stay leased and failed specs are not requeued (deployed, it fires every minute; locally `npm start` and `npm run dev` tick it, a bare `wrangler dev` does not)";

export class Fleet extends DurableObject<Env> {
  private readonly db: Db;
  protected readonly waiters = new Waiters();
  protected readonly deps: Deps;
  /** The key ids EXECUTOR_KEYS holds: an executor id stays bound to its key while it is live. */
  private readonly liveKeys: ReadonlySet<string>;

  private readonly cache = new FleetCache();
  /** The real time the alarm is set for, as far as this instance knows. */
  private alarmAt: number | null = null;

  /**
   * The runtime constructs a deployment's Fleet with real time; the test build's subclass
   * passes a clock it can pin.
   */
  constructor(
    ctx: DurableObjectState,
    env: Env,
    protected readonly clock: Clock = systemClock,
  ) {
    super(ctx, env);
    this.db = drizzle(ctx.storage, { schema: tables });
    this.deps = {
      db: this.db,
      now: () => this.clock.now(),
      random: Math.random,
      timings: readTimings(env),
      spend: new SpendLedger(),
    };
    this.liveKeys = new Set(parseExecutorKeys(env.EXECUTOR_KEYS).keys());
    ctx.blockConcurrencyWhile(async () => {
      await migrate(this.db, migrations);
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** Runs `fn` in one synchronous SQLite transaction; an ApiError rolls it back and is returned. */
  private run<T>(fn: (tx: Db) => T): Result<T> {
    try {
      return { ok: true, value: this.ctx.storage.transactionSync(() => fn(this.db)) };
    } catch (err) {
      // What the transaction changed is undone: so is what it told the memory.
      this.forgetCache();
      if (err instanceof ApiError) return { ok: false, status: err.status, error: err.toBody() };
      throw err;
    }
  }

  /** A transaction that only reads. */
  protected read<T>(fn: (tx: Db) => T): Result<T> {
    return this.run(fn);
  }

  /** Forgets every cached row and tonight's spend (the next read fetches them). */
  protected forgetCache(): void {
    this.cache.clear();
    this.deps.spend.forget();
  }

  /** A transaction that may change settings or providers: the cache forgets them after it. */
  protected tx<T>(fn: (tx: Db) => T): Result<T> {
    const result = this.run(fn);
    this.cache.clear();
    return result;
  }

  /** A change that may make work claimable: wake the long-polling claims after it commits. */
  protected change<T>(fn: (tx: Db) => T): Result<T> {
    const result = this.tx(fn);
    if (result.ok) this.waiters.wake();
    return result;
  }

  /** The real time (ms since the epoch) an alarm due at `at` on the Fleet's clock is set for. */
  protected alarmTime(at: number): number {
    return Date.now() + this.clock.realDelay(at - this.clock.now());
  }

  /**
   * Makes sure the alarm runs by `at` (Fleet clock, ms): the earliest lease expiry, or now
   * when the outbox has something to send. Nothing is read to decide it.
   */
  protected wakeBy(at: number): void {
    const real = this.alarmTime(at);
    if (this.alarmAt !== null && this.alarmAt <= real && this.alarmAt > Date.now() - 60_000) return;
    this.alarmAt = real;
    void this.ctx.storage.setAlarm(real);
  }

  /**
   * Requeues the specs of expired leases; the alarm does this at the earliest expiry. A lost
   * lease changes no provider row or setting, so the cache the claims read stays.
   */
  private expireLeases(): void {
    for (;;) {
      const expired = this.run((tx) => expireLeases(tx, this.deps));
      if (!expired.ok || expired.value === 0) return;
      this.waiters.wake();
      this.wakeBy(this.clock.now());
      if (expired.value < EXPIRE_BATCH) return;
    }
  }

  // ------------------------------------------------------------ clock

  async now(): Promise<number> {
    return this.clock.now();
  }

  // ------------------------------------------------------------ executor protocol

  /**
   * The time (unix seconds) a signature's `created` is checked against here, or null where the
   * Worker already checked it against real time, as it does in every deployment.
   */
  protected signatureCheckTime(): number | null {
    return null;
  }

  /**
   * Runs one signed executor operation in one transaction with the storing of its nonce: a
   * replayed nonce, or one that cannot be stored, leaves the operation undone.
   */
  private signed<T>(signer: Signer, fn: (tx: Db, by: SignedBy) => T): Result<T> {
    const checkAt = this.signatureCheckTime();
    const by = { keyId: signer.keyId, liveKeys: this.liveKeys };
    return this.run((tx) => {
      acceptSigner(tx, signer, this.clock.now(), checkAt);
      return fn(tx, by);
    });
  }

  /** Leases runs to an executor; with wait_s it waits here until work is there or time is up. */
  async claim(req: ClaimRequest, signer: Signer): Promise<Result<ClaimResponse>> {
    // Real time bounds the wait, since the business clock may be pinned by tests.
    const deadline = Date.now() + req.wait_s * 1000;
    const claim = (tx: Db, by: SignedBy) => claimRuns(tx, this.deps, req, by.keyId, by.liveKeys, this.cache);
    let result = this.signed(signer, claim);
    const by = { keyId: signer.keyId, liveKeys: this.liveKeys };
    // A restarted executor's first claims may have ended its earlier process's runs, which frees
    // their slots for the other claims waiting here.
    if (result.ok && req.executor.previous_boot) this.waiters.wake();
    for (;;) {
      if (!result.ok) return result;
      if (result.value.runs.length > 0) {
        // The lease is provisional until the executor's first heartbeat: the alarm takes it
        // back if none comes.
        this.wakeBy(Math.min(...result.value.runs.map((r) => Date.parse(r.lease.expires_at))));
        return result;
      }
      const left = deadline - Date.now();
      if (left <= 0) return result;
      await this.waiters.wait(Math.min(left, this.untilProviderChange()));
      result = this.run((tx) => claim(tx, by));
    }
  }

  /**
   * Real ms until a cooling or a breaker's cooldown ends: nothing wakes the waiting claims then
   * (no request changes anything), so they look again by themselves. Infinity when none is due.
   */
  protected untilProviderChange(): number {
    const now = this.clock.now();
    const next = this.read((tx) => nextProviderChange(tx, now));
    if (!next.ok || next.value === null) return Number.POSITIVE_INFINITY;
    return this.clock.realDelay(next.value - now) + 1;
  }

  async heartbeat(runId: string, req: HeartbeatRequest, signer: Signer): Promise<Result<HeartbeatResponse>> {
    const result = this.signed(signer, (tx, by) => heartbeat(tx, this.deps, runId, req, by));
    if (!result.ok) return result;
    if (result.value.providerChanged) {
      // A passed preflight closed its provider's breaker: claims read the new row and wake.
      this.cache.clear();
      this.waiters.wake();
    }
    return { ok: true, value: result.value.answer };
  }

  async verdict(runId: string, req: VerdictRequest, signer: Signer): Promise<Result<VerdictResponse>> {
    const result = this.signed(signer, (tx, by) => verdict(tx, this.deps, runId, req, by));
    // The verdict fed the provider's row and may have written events to the outbox.
    this.cache.clear();
    if (result.ok) {
      this.waiters.wake();
      this.wakeBy(this.clock.now());
    }
    return result;
  }

  // ------------------------------------------------------------ specs

  /**
   * Dispatches a spec the Worker parsed, or refuses the one it could not parse (`input` not
   * ok), in one transaction with its Idempotency-Key: a key seen before with this request
   * replays the first answer, with another request is refused, and is recorded with the answer.
   */
  async dispatch(input: Result<DispatchInput>, idem?: IdempotencyRef): Promise<Result<DispatchOutcome>> {
    return this.change((tx) => {
      if (idem) {
        const start = beginIdempotent(tx, idem, this.clock.now());
        if (start.replay) return { replayed: true, status: start.status, body: start.body };
      }
      if (!input.ok)
        throw new ApiError(input.status, input.error.code, input.error.message, input.error.details);
      const response = dispatch(tx, this.deps, input.value);
      if (idem) finishIdempotent(tx, idem, 201, response);
      return { replayed: false, status: 201, body: response };
    });
  }

  async listSpecs(q: ListQuery): Promise<Result<SpecList>> {
    return this.read((tx) => listSpecs(tx, q));
  }

  async getSpec(id: string): Promise<Result<SpecDetail>> {
    return this.read((tx) => showSpec(tx, id, this.clock.now()));
  }

  async kill(id: string): Promise<Result<SpecSummary>> {
    return this.change((tx) => kill(tx, this.deps, id));
  }

  async retry(id: string): Promise<Result<SpecSummary>> {
    return this.change((tx) => retry(tx, this.deps, id));
  }

  async approve(id: string, body: ApproveRequest, by: string): Promise<Result<SpecSummary>> {
    return this.change((tx) => approve(tx, this.deps, id, body, by));
  }

  async decline(id: string, body: DeclineRequest, by: string): Promise<Result<SpecSummary>> {
    return this.change((tx) => decline(tx, this.deps, id, body, by));
  }

  // ------------------------------------------------------------ fleet

  async status(): Promise<Result<StatusView>> {
    return this.read((tx) => {
      const monitor = lastPass(tx);
      return {
        frozen: isFrozen(tx),
        counts: countsByStatus(tx),
        providers: listProviders(tx, this.clock.now()),
        executors: listExecutors(tx),
        monitor,
        ...(monitor ? {} : { monitor_hint: NO_MONITOR_HINT }),
        review_backlog: reviewBacklog(tx),
        windows: windowsAt(fleetSettings(tx), this.clock.now()),
        budget: budgetView(tx, this.clock.now(), fleetSettings(tx)),
      };
    });
  }

  async settings(): Promise<Result<SettingsView>> {
    return this.tx((tx) => settingsView(tx, this.clock.now()));
  }

  /** Changes the night controls; waiting claims look again, as a raised limit may free work. */
  async putSettings(update: FleetSettingsUpdate): Promise<Result<SettingsView>> {
    return this.change((tx) => {
      const settings = putFleetSettings(tx, update);
      budgetHold(tx, this.clock.now(), settings, this.deps.spend);
      syncWindowPeriods(tx, this.clock.now());
      return settingsView(tx, this.clock.now(), settings);
    });
  }

  async freeze(): Promise<Result<{ frozen: boolean }>> {
    return this.tx((tx) => {
      setFrozen(tx, true, this.clock.now());
      return { frozen: true };
    });
  }

  async thaw(): Promise<Result<{ frozen: boolean }>> {
    return this.change((tx) => {
      setFrozen(tx, false, this.clock.now());
      return { frozen: false };
    });
  }

  async listProviders(): Promise<Result<ProviderView[]>> {
    return this.read((tx) => listProviders(tx, this.clock.now()));
  }

  async putProvider(name: string, update: ProviderUpdate): Promise<Result<ProviderView>> {
    return this.change((tx) => {
      const { window, window_zone, window_fit, budget_usd, price, ...core } = update;
      putProvider(tx, name, core, this.clock.now());
      putProviderControls(tx, name, { window, window_zone, window_fit, budget_usd, price });
      budgetHold(tx, this.clock.now(), fleetSettings(tx), this.deps.spend);
      syncWindowPeriods(tx, this.clock.now());
      return oneProvider(tx, name, this.clock.now());
    });
  }

  async deleteProvider(name: string): Promise<Result<{ deleted: string }>> {
    return this.tx((tx) => {
      deleteProvider(tx, name, this.clock.now());
      return { deleted: name };
    });
  }

  async freezeProvider(name: string, frozen: boolean): Promise<Result<ProviderView>> {
    return this.change((tx) => setProviderFrozen(tx, name, frozen, this.clock.now()));
  }

  async gates(): Promise<Result<Record<GateName, GateSetting>>> {
    return this.read((tx) => gateSettings(tx));
  }

  async setGate(name: GateName, update: GateUpdate): Promise<Result<GateSetting>> {
    return this.tx((tx) => setGate(tx, name, update));
  }

  async listExecutors(): Promise<Result<ExecutorView[]>> {
    return this.read((tx) => listExecutors(tx));
  }

  async drain(id: string, draining: boolean): Promise<Result<ExecutorView>> {
    return this.change((tx) => setDraining(tx, id, draining));
  }

  // ------------------------------------------------------------ monitor

  async monitorPass(): Promise<Result<MonitorPassResult>> {
    const result = this.tx((tx) => runMonitorPass(tx, this.deps, this.env));
    this.wakeBy(this.clock.now());
    if (result.ok && monitorChangedAnything(result.value)) this.waiters.wake();
    return result;
  }

  // ------------------------------------------------------------ webhooks, report, phone actions

  /** Takes back expired leases, sends what the outbox holds, and sets itself for what is next. */
  async alarm(): Promise<void> {
    this.alarmAt = null;
    this.expireLeases();
    const webhooksAt = await runWebhookAlarm(this.deps, this.env);
    const leaseAt = this.read((tx) => nextLeaseExpiry(tx));
    const next = [webhooksAt, leaseAt.ok ? leaseAt.value : null].filter((t): t is number => t !== null);
    if (next.length > 0) this.wakeBy(Math.min(...next));
  }

  async createWebhook(input: WebhookCreateInput) {
    return createEndpoint(
      this.db,
      this.clock.now(),
      {
        url: input.url,
        events: input.events,
        format: input.format,
        secret: input.secret,
        linksBase: input.links_base,
        createdBy: input.created_by,
      },
      allowPrivate(this.env),
    );
  }

  async listWebhooks() {
    return this.read((tx) => listEndpoints(tx));
  }

  async deleteWebhook(id: string) {
    return deleteEndpoint(this.db, id);
  }

  async webhookDeliveries(id: string, count: number, cursor: string | null) {
    return listDeliveries(this.db, id, count, cursor);
  }

  /** Sends a sample event to one endpoint now; the answer is the delivery after that attempt. */
  async testWebhook(id: string): Promise<Result<DeliveryView>> {
    const d = await sendTestDelivery(this.deps, this.env, id);
    if (!d)
      return {
        ok: false,
        status: 404,
        error: { code: "not_found", message: `no webhook ${JSON.stringify(id)}` },
      };
    if (d.status === "pending") this.wakeBy(this.clock.now());
    return { ok: true, value: deliveryView(d) };
  }

  async redeliver(id: string) {
    const r = redeliver(this.db, this.clock.now(), id);
    if (r.ok) this.wakeBy(this.clock.now());
    return r;
  }

  async report(since: number, until: number) {
    return this.read((tx) => buildReport(tx, since, until));
  }

  /** What the report's timeline picture draws for [since, until]. */
  async timeline(since: number, until: number): Promise<Result<TimelineInput>> {
    return this.read((tx) => timelineInput(tx, since, until));
  }

  async actionTarget(specId: string) {
    return this.read((tx) => actionTarget(tx, specId));
  }

  async linkUsedAt(nonce: string) {
    return linkUsedAt(this.db, nonce);
  }

  async budgetTarget(reachId: string) {
    return this.tx((tx) => budgetLinkTarget(tx, this.clock.now(), reachId));
  }

  /** A budget link ("raise", "resume"): waiting claims look again, as it may lift the hold. */
  async useBudgetLink(claims: ActionClaims & { action: BudgetAction }) {
    const result = this.change((tx) => useBudgetLink(tx, this.deps, claims));
    this.wakeBy(this.clock.now());
    return result;
  }

  async useActionLink(claims: ActionClaims, input: { grade?: string; note?: string }) {
    const result = this.change((tx) => useActionLink(tx, this.deps, claims, input));
    this.wakeBy(this.clock.now());
    return result;
  }
}
