// Proves the Collector configs under collector-config/ are coherent with what spendtrace serves: every pipeline's components are defined and used, exporters reach spendtrace's OTLP ports with a protocol it speaks and its token, the load-balancing resolver names a headless Service of the Kubernetes manifest on a port the Deployment serves gRPC on, and every repository path they mention exists.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONFIG_DIR = join(ROOT, 'collector-config');
const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml'));

type Section = Record<string, Record<string, unknown> | null>;
interface CollectorConfig {
  receivers?: Section;
  processors?: Section;
  exporters?: Section;
  extensions?: Section;
  connectors?: Section;
  service: { pipelines: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }>; extensions?: string[] };
}
interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, any>;
}

const k8s = parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes/spendtrace.yaml'), 'utf8')).map((d) => d.toJS() as K8sObject);
const deployment = k8s.find((o) => o.kind === 'Deployment' && o.metadata.name === 'spendtrace')!;
const container = deployment.spec.template.spec.containers[0];
const compose = parse(readFileSync(join(ROOT, 'deploy/compose/compose.yaml'), 'utf8')) as {
  services: Record<string, { command?: string[]; volumes?: string[] }>;
};

/** The ports `serve` listens on for these args (defaults as `spendtrace serve --help` states them). */
function servePorts(args: string[]): { http: number; grpc: number } {
  const flag = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i < 0 ? dflt : Number(args[i + 1]);
  };
  return { http: flag('--port', 4318), grpc: flag('--grpc-port', 4317) };
}
const k8sPorts = servePorts(container.args);
const servedTokens = container.env?.some((e: { name: string }) => e.name === 'SPENDTRACE_AUTH_TOKENS');

/** The host spendtrace is reached at, by Kubernetes Service DNS name or compose service name. */
function spendtraceTarget(host: string): { kind: 'k8s'; service: K8sObject } | { kind: 'compose'; ports: { http: number; grpc: number } } | undefined {
  const svc = k8s.find(
    (o) =>
      o.kind === 'Service' &&
      [o.metadata.name, `${o.metadata.name}.${o.metadata.namespace}.svc.cluster.local`, `${o.metadata.name}.${o.metadata.namespace}`].includes(host),
  );
  if (svc) return { kind: 'k8s', service: svc };
  if (compose.services[host]?.command?.[0] === 'serve') return { kind: 'compose', ports: servePorts(compose.services[host].command!) };
  return undefined;
}

function checkTarget(host: string, port: number, protocol: 'http' | 'grpc') {
  const t = spendtraceTarget(host);
  expect(t, `${host} is neither a Kubernetes Service nor a compose service running spendtrace serve`).toBeDefined();
  if (t!.kind === 'compose') return expect(port).toBe(t!.ports[protocol]);
  const p = (t!.service.spec.ports as Array<{ port: number; targetPort: number }>).find((x) => x.port === port);
  expect(p, `Service ${t!.service.metadata.name} has no port ${port}`).toBeDefined();
  expect(p!.targetPort).toBe(k8sPorts[protocol]);
  expect(container.ports.map((c: { containerPort: number }) => c.containerPort)).toContain(k8sPorts[protocol]);
}

describe.each(files)('collector-config/%s', (file) => {
  const text = readFileSync(join(CONFIG_DIR, file), 'utf8');
  const cfg = parse(text) as CollectorConfig;

  it('defines every component its pipelines use, and uses every one it defines', () => {
    const used = new Set<string>();
    expect(Object.keys(cfg.service.pipelines).length).toBeGreaterThan(0);
    for (const [name, p] of Object.entries(cfg.service.pipelines)) {
      expect(name).toMatch(/^(traces|metrics|logs)(\/.+)?$/);
      expect(p.receivers?.length, `${name} has no receivers`).toBeGreaterThan(0);
      expect(p.exporters?.length, `${name} has no exporters`).toBeGreaterThan(0);
      for (const [kind, list] of [
        ['receivers', p.receivers],
        ['processors', p.processors],
        ['exporters', p.exporters],
      ] as const) {
        for (const c of list ?? []) {
          expect(Object.keys(cfg[kind] ?? {}), `${name} uses ${kind.slice(0, -1)} ${c}`).toContain(c);
          used.add(`${kind}:${c}`);
        }
      }
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const)
      for (const c of Object.keys(cfg[kind] ?? {})) expect(used, `${kind} ${c} is defined but unused`).toContain(`${kind}:${c}`);
  });

  it('sends to spendtrace on a port and protocol it serves, with its token', () => {
    let toSpendtrace = 0;
    for (const [name, e] of Object.entries(cfg.exporters ?? {})) {
      const type = name.split('/')[0];
      const conf = (e ?? {}) as Record<string, any>;
      if (type === 'otlphttp') {
        const u = new URL(conf.endpoint);
        checkTarget(u.hostname, Number(u.port), 'http');
        expect(['proto', 'json', undefined]).toContain(conf.encoding);
        expect(['gzip', 'none', undefined]).toContain(conf.compression);
        if (servedTokens) expect(conf.headers?.authorization).toMatch(/^Bearer \S+/);
        toSpendtrace++;
      } else if (type === 'otlp') {
        const [host, port] = String(conf.endpoint)
          .replace(/^\w+:\/\//, '')
          .split(':');
        checkTarget(host!, Number(port), 'grpc');
        toSpendtrace++;
      } else if (type === 'loadbalancing') {
        expect(Object.keys(conf.protocol), 'the load-balancing exporter speaks OTLP/gRPC').toEqual(['otlp']);
        if (servedTokens) expect(conf.protocol.otlp.headers?.authorization).toMatch(/^Bearer \S+/);
        const { hostname, port } = conf.resolver.dns;
        const headless = k8s.find((o) => o.kind === 'Service' && `${o.metadata.name}.${o.metadata.namespace}.svc.cluster.local` === hostname);
        expect(headless, `no Service for ${hostname} in deploy/kubernetes`).toBeDefined();
        expect(headless!.spec.clusterIP, 'the DNS resolver needs a headless Service (one address per replica)').toBe('None');
        expect(headless!.spec.selector).toEqual(deployment.spec.selector.matchLabels);
        const p = (headless!.spec.ports as Array<{ port: number; targetPort: number }>).find((x) => x.port === port);
        expect(p, `headless Service has no port ${port}`).toBeDefined();
        expect(p!.targetPort).toBe(k8sPorts.grpc);
        toSpendtrace++;
      }
    }
    expect(toSpendtrace).toBeGreaterThan(0);
  });

  it('mentions only repository paths that exist', () => {
    for (const m of text.matchAll(/\b((?:deploy|collector-config|packages)\/[\w./-]*\w)/g)) expect(existsSync(join(ROOT, m[1]!)), m[1]).toBe(true);
  });
});

describe('deploy/compose', () => {
  it('mounts a collector config that exists', () => {
    const vol = compose.services['otel-collector']!.volumes![0]!.split(':')[0]!;
    expect(existsSync(join(ROOT, 'deploy/compose', vol))).toBe(true);
  });
});
