/**
 * The demo's alert: a webhook receiver on 127.0.0.1 standing in for Slack or Discord, and an
 * alerts config whose rule the demo fleet crosses (a model with no known price), so the demo ends
 * with a message delivered by the same evaluator and sink code `spendtrace serve` runs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAlertsConfig } from '../../alerts/index.ts';
import type { AlertEvaluator, AlertsConfig, WebhookBody } from '../../alerts/index.ts';

export interface DemoAlerts {
  config: AlertsConfig;
  url: string;
  /** Evaluates until the receiver has a message (or `timeoutMs` passes); the messages received. */
  deliver(evaluator: AlertEvaluator | undefined, timeoutMs?: number): Promise<WebhookBody[]>;
  close(): Promise<void>;
}

export async function startDemoAlerts(): Promise<DemoAlerts> {
  const received: WebhookBody[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      try {
        received.push(JSON.parse(text) as WebhookBody);
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  const config = parseAlertsConfig({
    sinks: [{ name: 'local', type: 'webhook', url }],
    rules: [{ name: 'unpriced-models', kind: 'unpriced_model' }],
  });
  return {
    config,
    url,
    async deliver(evaluator, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (evaluator && received.length === 0 && Date.now() < deadline) await evaluator.evaluate();
      return received;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
