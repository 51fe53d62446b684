export { parseAlertsConfig, AlertsConfigError, RULE_KINDS, SINK_TYPES } from './rules.ts';
export type { AlertsConfig, Rule, RuleKind, SinkConfig, SinkType } from './rules.ts';
export { checkRule, type Finding } from './checks.ts';
export { IncidentLog, readIncidents, type Incident, type Notification, type IncidentEvent } from './incidents.ts';
export { AlertEvaluator, subjectOf, type EvaluatorOptions, type EvaluationResult } from './evaluator.ts';
export {
  bodyFor,
  deliver,
  slackBody,
  discordBody,
  webhookBody,
  type DeliveryResult,
  type AlertSubject,
  type MessageEvent,
  type WebhookBody,
  type SlackBody,
} from './sinks.ts';
export { alertsView, createAlertsRoute, type AlertsView } from './api.ts';

/** The incidents file in a data directory. */
export const INCIDENTS_FILE = 'alert-incidents.json';
