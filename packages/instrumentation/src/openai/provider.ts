/** Which provider an OpenAI-compatible client talks to, from its base URL (cached per URL). */
import { GEN_AI_PROVIDER } from '@spendtrace/semconv';

export interface Endpoint {
  provider: string;
  address: string | undefined;
  port: number | undefined;
}

const HOSTS: Array<[suffix: string, provider: string]> = [
  ['api.openai.com', GEN_AI_PROVIDER.OPENAI],
  ['.openai.azure.com', GEN_AI_PROVIDER.AZURE_OPENAI],
  ['.services.ai.azure.com', GEN_AI_PROVIDER.AZURE_OPENAI],
  ['api.groq.com', GEN_AI_PROVIDER.GROQ],
  ['api.deepseek.com', GEN_AI_PROVIDER.DEEPSEEK],
  ['api.x.ai', GEN_AI_PROVIDER.X_AI],
  ['openrouter.ai', GEN_AI_PROVIDER.OPENROUTER],
  ['api.together.xyz', GEN_AI_PROVIDER.TOGETHER],
  ['api.fireworks.ai', GEN_AI_PROVIDER.FIREWORKS],
  ['api.mistral.ai', GEN_AI_PROVIDER.MISTRAL],
  ['generativelanguage.googleapis.com', GEN_AI_PROVIDER.GCP_GEMINI],
];

const cache = new Map<string, Endpoint>();

export function endpointOf(baseURL: string | undefined): Endpoint {
  const key = baseURL ?? '';
  let e = cache.get(key);
  if (e) return e;
  e = { provider: GEN_AI_PROVIDER.OPENAI, address: undefined, port: undefined };
  try {
    const url = new URL(key);
    const host = url.hostname;
    e.address = host;
    e.port = url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
    for (const [suffix, provider] of HOSTS) {
      if (host === suffix || host.endsWith(suffix.startsWith('.') ? suffix : `.${suffix}`)) {
        e.provider = provider;
        break;
      }
    }
  } catch {
    // Not a URL: keep the defaults.
  }
  if (cache.size > 1000) cache.clear();
  cache.set(key, e);
  return e;
}
