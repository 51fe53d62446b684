/**
 * Incidents: a finding that holds becomes a firing incident, once; when it has been absent for
 * `resolveAfter` evaluations it resolves. Each incident owes each of its sinks one "firing" and one
 * "resolved" message; what was sent is persisted with the incident (a small JSON file in the data
 * directory, replaced atomically), so a restarted service neither re-sends nor forgets a message.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Finding } from './checks.ts';

export type IncidentEvent = 'firing' | 'resolved';

export interface Notification {
  sink: string;
  event: IncidentEvent;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  /** Last failure (status code or network error). */
  error?: string;
  sentAt?: string;
}

export interface Incident extends Omit<Finding, 'key'> {
  id: string;
  key: string;
  status: 'firing' | 'resolved';
  startedAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  /** Evaluations in a row without the finding, while firing. */
  missed: number;
  notifications: Notification[];
}

interface StateFile {
  version: 1;
  incidents: Incident[];
}

/** Resolved incidents kept for `spendtrace alerts` and /api/alerts. */
const KEEP_RESOLVED_MS = 7 * 86_400_000;
const KEEP_RESOLVED_MAX = 500;

export class IncidentLog {
  private incidents: Incident[] = [];
  readonly file: string | undefined;

  /** `file` undefined keeps incidents in memory only. */
  constructor(file: string | undefined) {
    this.file = file;
    if (file && existsSync(file)) {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as StateFile;
      if (parsed?.version !== 1 || !Array.isArray(parsed.incidents)) throw new Error(`${file}: not a spendtrace incidents file (version 1)`);
      this.incidents = parsed.incidents;
    }
  }

  firing(): Incident[] {
    return this.incidents.filter((i) => i.status === 'firing');
  }

  /** Newest first: firing ones, then resolved ones. */
  all(): Incident[] {
    return [...this.incidents].sort((a, b) => (a.status === b.status ? b.startedAt.localeCompare(a.startedAt) : a.status === 'firing' ? -1 : 1));
  }

  /**
   * Applies one evaluation of `rule`: new findings open incidents, known ones refresh, missing ones
   * count towards resolving. Returns whether anything changed that must be saved.
   */
  reconcile(rule: string, findings: Finding[], sinks: string[], nowMs: number, resolveAfter: number): boolean {
    const now = new Date(nowMs).toISOString();
    const seen = new Set<string>();
    let changed = false;
    for (const f of findings) {
      seen.add(f.key);
      const open = this.incidents.find((i) => i.status === 'firing' && i.key === f.key);
      if (open) {
        Object.assign(open, { title: f.title, summary: f.summary, evidence: f.evidence, severity: f.severity, lastSeenAt: now, missed: 0 });
        changed = true;
        continue;
      }
      this.incidents.push({
        ...f,
        id: createHash('sha256').update(`${f.key}\u0000${now}`).digest('hex').slice(0, 12),
        status: 'firing',
        startedAt: now,
        lastSeenAt: now,
        resolvedAt: null,
        missed: 0,
        notifications: sinks.map((sink) => ({ sink, event: 'firing', status: 'pending', attempts: 0 })),
      });
      changed = true;
    }
    for (const i of this.incidents) {
      if (i.rule !== rule || i.status !== 'firing' || seen.has(i.key)) continue;
      i.missed++;
      changed = true;
      if (i.missed < resolveAfter) continue;
      i.status = 'resolved';
      i.resolvedAt = now;
      // A resolve is owed only where the firing message went (or still may go).
      for (const n of i.notifications.filter((x) => x.event === 'firing' && x.status !== 'failed')) {
        i.notifications.push({ sink: n.sink, event: 'resolved', status: 'pending', attempts: 0 });
      }
    }
    return changed;
  }

  /** Incidents of rules no longer configured resolve without a message (nobody asked for it any more). */
  retire(activeRules: Set<string>, nowMs: number): boolean {
    let changed = false;
    for (const i of this.incidents) {
      if (i.status !== 'firing' || activeRules.has(i.rule)) continue;
      i.status = 'resolved';
      i.resolvedAt = new Date(nowMs).toISOString();
      for (const n of i.notifications) if (n.status === 'pending') Object.assign(n, { status: 'failed', error: 'rule removed from the config' });
      changed = true;
    }
    return changed;
  }

  /** Messages still owed, oldest incident first; per sink, a firing message before its resolve. */
  pending(): Array<{ incident: Incident; notification: Notification }> {
    const out: Array<{ incident: Incident; notification: Notification }> = [];
    for (const incident of [...this.incidents].sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
      for (const notification of incident.notifications) if (notification.status === 'pending') out.push({ incident, notification });
    }
    return out;
  }

  prune(nowMs: number): void {
    const resolved = this.incidents.filter((i) => i.status === 'resolved' && !i.notifications.some((n) => n.status === 'pending'));
    const drop = new Set(resolved.filter((i) => nowMs - Date.parse(i.resolvedAt!) > KEEP_RESOLVED_MS));
    const rest = resolved.filter((i) => !drop.has(i)).sort((a, b) => b.resolvedAt!.localeCompare(a.resolvedAt!));
    for (const i of rest.slice(KEEP_RESOLVED_MAX)) drop.add(i);
    if (drop.size) this.incidents = this.incidents.filter((i) => !drop.has(i));
  }

  save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, incidents: this.incidents } satisfies StateFile, null, 1) + '\n');
    renameSync(tmp, this.file);
  }
}

/** Reads an incidents file without taking part in evaluation (`spendtrace alerts`). */
export function readIncidents(file: string): Incident[] {
  return new IncidentLog(file).all();
}
