/**
 * The evaluator `spendtrace serve` runs: every `evaluateEverySeconds` it checks each rule against
 * the store, reconciles incidents, saves them, then sends what is owed. Evaluations never overlap;
 * a rule whose query fails keeps its incidents as they are (a store outage resolves nothing).
 */
import { renameSync } from 'node:fs';
import type { QueryableStore } from '../reports/types.ts';
import { checkRule } from './checks.ts';
import { IncidentLog } from './incidents.ts';
import type { Incident } from './incidents.ts';
import type { AlertsConfig } from './rules.ts';
import { bodyFor, deliver } from './sinks.ts';
import type { AlertSubject } from './sinks.ts';

export interface EvaluatorOptions {
  store: QueryableStore;
  database: string;
  config: AlertsConfig;
  /** Incidents file; undefined keeps them in memory. */
  file: string | undefined;
  log: (line: string) => void;
  /** @default Date.now */
  now?: () => number;
}

export interface EvaluationResult {
  at: string;
  rules: number;
  failedRules: string[];
  firing: number;
  sent: number;
  failed: number;
}

export function subjectOf(i: Incident): AlertSubject {
  const { notifications: _n, missed: _m, ...rest } = i;
  return rest;
}

/**
 * An unreadable incidents file must not stop the service (spans would be refused): it is moved
 * aside, said loudly, and incidents start afresh (so their messages may be sent again).
 */
function openLog(file: string | undefined, log: (line: string) => void): IncidentLog {
  try {
    return new IncidentLog(file);
  } catch (err) {
    const aside = `${file}.unreadable-${Date.now()}`;
    renameSync(file!, aside);
    log(
      `alerts: cannot read incidents from ${file} (${(err as Error).message}); moved it to ${aside} and starting with no incidents: messages of incidents still firing will be sent again`,
    );
    return new IncidentLog(file);
  }
}

export class AlertEvaluator {
  readonly incidents: IncidentLog;
  private readonly o: EvaluatorOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<EvaluationResult> | undefined;
  private readonly stop = new AbortController();
  private closed = false;
  lastEvaluation: EvaluationResult | undefined;

  constructor(o: EvaluatorOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.incidents = openLog(o.file, o.log);
  }

  get config(): AlertsConfig {
    return this.o.config;
  }

  /** Evaluates at once, then every `evaluateEverySeconds` after each evaluation ends. */
  start(): void {
    const loop = () => {
      if (this.closed) return;
      void this.evaluate().finally(() => {
        if (!this.closed) this.timer = setTimeout(loop, this.o.config.evaluateEverySeconds * 1000);
      });
    };
    loop();
  }

  /** One evaluation (joins the one in progress, if any). */
  evaluate(): Promise<EvaluationResult> {
    return (this.running ??= this.evaluateOnce().finally(() => {
      this.running = undefined;
    }));
  }

  private async evaluateOnce(): Promise<EvaluationResult> {
    const { config, store, database, log } = this.o;
    const nowMs = this.now();
    const failedRules: string[] = [];
    let changed = this.incidents.retire(new Set(config.rules.map((r) => r.name)), nowMs);
    for (const rule of config.rules) {
      if (this.closed) break;
      try {
        const findings = await checkRule(store, database, rule, nowMs);
        changed = this.incidents.reconcile(rule.name, findings, rule.sinks, nowMs, config.resolveAfterEvaluations) || changed;
      } catch (err) {
        failedRules.push(rule.name);
        log(`alerts: rule "${rule.name}" (${rule.kind}) could not be evaluated: ${(err as Error).message}`);
      }
    }
    if (changed) this.save();
    const { sent, failed } = await this.sendOwed();
    this.incidents.prune(nowMs);
    this.save();
    const result = { at: new Date(nowMs).toISOString(), rules: config.rules.length, failedRules, firing: this.incidents.firing().length, sent, failed };
    this.lastEvaluation = result;
    return result;
  }

  /** Sends every owed message: sinks in parallel, each sink's messages in order. */
  private async sendOwed(): Promise<{ sent: number; failed: number }> {
    const owed = this.incidents.pending();
    const bySink = new Map<string, typeof owed>();
    for (const o of owed) {
      if (!bySink.has(o.notification.sink)) bySink.set(o.notification.sink, []);
      bySink.get(o.notification.sink)!.push(o);
    }
    let sent = 0;
    let failed = 0;
    await Promise.all(
      [...bySink].map(async ([name, items]) => {
        const sink = this.o.config.sinks.find((s) => s.name === name);
        for (const { incident, notification } of items) {
          if (this.closed) return;
          if (!sink) {
            Object.assign(notification, { status: 'failed', error: `no sink named "${name}" is configured any more` });
            failed++;
            continue;
          }
          // A resolve waits for its firing message: one sink never gets them out of order.
          if (notification.event === 'resolved' && incident.notifications.some((n) => n.sink === name && n.event === 'firing' && n.status === 'pending'))
            continue;
          const r = await deliver(sink, bodyFor(sink, notification.event, subjectOf(incident)), this.o.config.delivery, this.stop.signal);
          notification.attempts += r.attempts;
          if (r.ok) {
            notification.status = 'sent';
            notification.sentAt = new Date(this.now()).toISOString();
            delete notification.error;
            sent++;
          } else {
            notification.error = r.error;
            if (!r.retryable) notification.status = 'failed';
            failed++;
            this.o.log(
              `alerts: ${notification.event} message for "${incident.title}" to sink "${name}" failed after ${r.attempts} attempt(s): ${r.error}${r.retryable ? ' (tried again next evaluation)' : ''}`,
            );
            // Keep order: later messages to this sink wait for the next evaluation.
            if (r.retryable) return;
          }
          this.save();
        }
      }),
    );
    return { sent, failed };
  }

  private save(): void {
    try {
      this.incidents.save();
    } catch (err) {
      this.o.log(`alerts: cannot save incidents to ${this.o.file}: ${(err as Error).message}`);
    }
  }

  /** Stops the loop; an evaluation in progress stops waiting on backoffs and is awaited. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.stop.abort();
    await this.running?.catch(() => undefined);
    this.save();
  }
}
