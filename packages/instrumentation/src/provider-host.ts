/**
 * What every provider module shares beyond inference-call.ts and call-site.ts: the host it is
 * patched with, the server address of a client's base URL, and copying request settings.
 */
import type { Attributes } from '@opentelemetry/api';
import type { CallHost, ServerAddress } from './inference-call.ts';
import type { Wrapper } from './wrapping.ts';

/** What a provider module needs from `SpendtraceInstrumentation`. */
export interface GenAIHost extends CallHost {
  isEnabled(): boolean;
  /** The instrumentation's `_wrap` / `_unwrap` (wrapping.ts). */
  readonly wrapper: Wrapper;
  /** Record prompts and completions (`gen_ai.input.messages` / `.output.messages`). Absent: off. */
  readonly captureMessageContent?: boolean;
}

/** `server.address` / `server.port` of a client's base URL (cached: clients keep one). */
const servers = new Map<string, ServerAddress>();
export function serverAddress(baseURL: string | undefined): ServerAddress {
  const key = baseURL ?? '';
  let server = servers.get(key);
  if (server) return server;
  server = {};
  try {
    const url = new URL(key);
    server = { address: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443 };
  } catch {
    // No usable base URL: the span goes without server attributes.
  }
  if (servers.size > 1000) servers.clear();
  servers.set(key, server);
  return server;
}

/** Copies the defined, attribute-typed values of `pairs` into `attrs`. */
export function setDefined(attrs: Attributes, pairs: Array<[string, unknown]>): Attributes {
  for (const [k, v] of pairs) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') attrs[k] = v;
    else if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) attrs[k] = v as string[];
  }
  return attrs;
}
