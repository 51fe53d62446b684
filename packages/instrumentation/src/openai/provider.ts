/**
 * Which provider an `openai` client talks to (`gen_ai.provider.name`), from its class and base URL.
 *
 * Order: the app's `openaiProviders` map, then an `AzureOpenAI` client (`azure.ai.openai`), then
 * the known hosts of OpenAI-compatible APIs, then local model servers recognisable without
 * guessing (Ollama's port 11434, a host named `ollama` / `vllm`, vLLM's default port 8000 on a
 * loopback or private address) as `self_hosted`. Anything else is `openai`: a fake or proxy
 * server on 127.0.0.1 that speaks for OpenAI (tests, the demo, an egress proxy) stays priced as
 * OpenAI unless the map says otherwise. `self_hosted` models are priced only through overrides.
 */
import { GEN_AI_PROVIDER } from '@spendtrace/semconv';
import type { OpenAIProviderMap } from '../types.ts';

export interface Endpoint {
  provider: string;
  address: string | undefined;
  port: number | undefined;
}

const HOSTS: Array<[suffix: string, provider: string]> = [
  ['api.openai.com', GEN_AI_PROVIDER.OPENAI],
  ['.openai.azure.com', GEN_AI_PROVIDER.AZURE_OPENAI],
  ['.services.ai.azure.com', GEN_AI_PROVIDER.AZURE_OPENAI],
  ['.cognitiveservices.azure.com', GEN_AI_PROVIDER.AZURE_OPENAI],
  ['api.groq.com', GEN_AI_PROVIDER.GROQ],
  ['api.deepseek.com', GEN_AI_PROVIDER.DEEPSEEK],
  ['api.x.ai', GEN_AI_PROVIDER.X_AI],
  ['openrouter.ai', GEN_AI_PROVIDER.OPENROUTER],
  ['api.together.xyz', GEN_AI_PROVIDER.TOGETHER],
  ['api.together.ai', GEN_AI_PROVIDER.TOGETHER],
  ['api.fireworks.ai', GEN_AI_PROVIDER.FIREWORKS],
  ['api.mistral.ai', GEN_AI_PROVIDER.MISTRAL],
  ['generativelanguage.googleapis.com', GEN_AI_PROVIDER.GCP_GEMINI],
];

const OLLAMA_PORT = 11434;
const VLLM_PORT = 8000;

/** Loopback, RFC 1918, link-local, unique-local and single-label hosts (a container name). */
function isLocalHost(host: string): boolean {
  if (host === 'localhost' || host === '[::1]' || host === '::1' || !host.includes('.')) return true;
  if (/^127\./.test(host) || /^10\./.test(host) || /^192\.168\./.test(host) || /^169\.254\./.test(host)) return true;
  if (/^172\.(1[6-9]|2\d|3[01])\./.test(host)) return true;
  return /^\[?f[cd][0-9a-f]{2}:/i.test(host);
}

function fromMap(url: URL, raw: string, map: OpenAIProviderMap | undefined): string | undefined {
  if (!map) return undefined;
  let best: string | undefined;
  let bestLength = -1;
  for (const key in map) {
    // The longest matching URL prefix wins, so a path-specific entry beats a host-wide one.
    if (key.includes('://') && raw.startsWith(key) && key.length > bestLength) {
      best = map[key];
      bestLength = key.length;
    }
  }
  if (best !== undefined) return best;
  return map[url.host] ?? map[url.hostname];
}

function detect(url: URL, raw: string, map: OpenAIProviderMap | undefined, azure: boolean): string {
  const mapped = fromMap(url, raw, map);
  if (mapped) return mapped;
  if (azure) return GEN_AI_PROVIDER.AZURE_OPENAI;
  const host = url.hostname;
  for (const [suffix, provider] of HOSTS) {
    if (host === suffix || host.endsWith(suffix.startsWith('.') ? suffix : `.${suffix}`)) return provider;
  }
  const port = url.port ? Number(url.port) : undefined;
  if (port === OLLAMA_PORT || /(^|[.-])(ollama|vllm)([.-]|$)/.test(host)) return GEN_AI_PROVIDER.SELF_HOSTED;
  if (port === VLLM_PORT && isLocalHost(host)) return GEN_AI_PROVIDER.SELF_HOSTED;
  return GEN_AI_PROVIDER.OPENAI;
}

const byUrl = new Map<string, Endpoint>();
const byClient = new WeakMap<object, { baseURL: string | undefined; map: OpenAIProviderMap | undefined; endpoint: Endpoint }>();

/** The endpoint of a base URL (no client class known). Cached per URL. */
export function endpointOf(baseURL: string | undefined, map?: OpenAIProviderMap, azure = false): Endpoint {
  const key = `${azure ? 'azure ' : ''}${baseURL ?? ''}`;
  let e = map ? undefined : byUrl.get(key);
  if (e) return e;
  e = { provider: azure ? GEN_AI_PROVIDER.AZURE_OPENAI : GEN_AI_PROVIDER.OPENAI, address: undefined, port: undefined };
  try {
    const raw = baseURL ?? '';
    const url = new URL(raw);
    e.address = url.hostname;
    e.port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
    e.provider = detect(url, raw, map, azure);
  } catch {
    // Not a URL: keep the defaults.
  }
  if (!map) {
    if (byUrl.size > 1000) byUrl.clear();
    byUrl.set(key, e);
  }
  return e;
}

/** The endpoint of an SDK client (cached per client; recomputed if its base URL or the map changes). */
export function endpointOfClient(client: { baseURL?: string; apiVersion?: string; deploymentName?: string } | undefined, map?: OpenAIProviderMap): Endpoint {
  if (!client || typeof client !== 'object') return endpointOf(undefined, map);
  const hit = byClient.get(client);
  if (hit && hit.baseURL === client.baseURL && hit.map === map) return hit.endpoint;
  // `AzureOpenAI` (v5–v7) is the only client class with `apiVersion` and `deploymentName` fields.
  const azure = typeof client.apiVersion === 'string' && 'deploymentName' in client;
  const endpoint = endpointOf(client.baseURL, map, azure);
  byClient.set(client, { baseURL: client.baseURL, map, endpoint });
  return endpoint;
}
