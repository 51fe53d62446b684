// Proves that @google/genai on Vertex AI (real SDK over real HTTP to the fake server, on Vertex's URL paths) gives
// priced `generate_content` spans with gen_ai.provider.name=gcp.vertex_ai, with no Google Cloud credentials: express
// mode (vertexai + API key), and project/location with an OAuth2 client holding a fixed access token (googleAuthOptions.authClient).
import { createRequire } from 'node:module';
import * as genaiModule from '@google/genai';
import { GoogleGenAI, type GoogleGenAIOptions } from '@google/genai';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import * as A from '@spendtrace/semconv';
import { describe, expect, it } from 'vitest';
import { startFakeGemini } from '../../fake-providers/src/google.ts';
import { patchGoogleGenAI, unpatchGoogleGenAI } from '../src/google-genai/index.ts';
import { genAIHarness, nano, providerSuite, usd } from './genai-harness.ts';

// Published prices, https://cloud.google.com/vertex-ai/generative-ai/pricing (Gemini 2.5 Flash, text, standard):
// $0.30 / MTok input, $2.50 / MTok output (thinking included), $0.03 / MTok cached input.
const FLASH = { input: 0.3, output: 2.5, cacheRead: 0.03 };
// Same page, Embeddings: gemini-embedding-001 $0.15 / MTok input.
const EMBEDDING_001 = { input: 0.15 };
// Gemini Embedding 2, text input: $0.20 / MTok (https://ai.google.dev/gemini-api/docs/pricing#gemini-embedding-2,
// the catalogue's price for it on Vertex too).
const EMBEDDING_2 = { input: 0.2 };
const MODEL = 'gemini-2.5-flash';

// The copy of google-auth-library @google/genai itself uses (a dependency of it, not of this package).
const genaiRequire = createRequire(createRequire(import.meta.url).resolve('@google/genai'));
type AuthClient = NonNullable<NonNullable<GoogleGenAIOptions['googleAuthOptions']>['authClient']>;
const { OAuth2Client } = genaiRequire('google-auth-library') as {
  OAuth2Client: new () => AuthClient & { setCredentials(c: { access_token: string; expiry_date: number }): void };
};

const h = genAIHarness();
const { host, spans } = h;
const suite = providerSuite(h, {
  patch: () => patchGoogleGenAI(genaiModule, host),
  unpatch: () => unpatchGoogleGenAI(genaiModule, host.wrapper),
  startFake: () => startFakeGemini(),
});

function projectClient(): GoogleGenAI {
  const authClient = new OAuth2Client();
  // A token that never expires: the client adds `Authorization: Bearer …` without refreshing (no network, no ADC).
  authClient.setCredentials({ access_token: 'ya29.test-token', expiry_date: Date.now() + 3_600_000 });
  return new GoogleGenAI({
    vertexai: true,
    project: 'my-project',
    location: 'us-central1',
    httpOptions: { baseUrl: suite.fake.url },
    googleAuthOptions: { authClient },
  });
}
const expressClient = () => new GoogleGenAI({ vertexai: true, apiKey: 'vertex-express-key', httpOptions: { baseUrl: suite.fake.url } });

const CLIENTS = [
  ['project/location (OAuth2 access token)', projectClient, `/v1beta1/projects/my-project/locations/us-central1/publishers/google/models/${MODEL}`],
  ['express mode (API key)', expressClient, `/v1beta1/publishers/google/models/${MODEL}`],
] as const;

describe.each(CLIENTS)('@google/genai on Vertex AI, %s', (_label, makeClient, modelPath) => {
  it('prices generateContent (cached content, thinking) as gcp.vertex_ai', async () => {
    suite.fake.enqueue({
      generate: {
        parts: [{ text: 'Blue.' }],
        usage: { promptTokenCount: 5_000, cachedContentTokenCount: 2_000, candidatesTokenCount: 100, thoughtsTokenCount: 50 },
        responseId: 'vtx-1',
      },
    });
    const r = await makeClient().models.generateContent({ model: MODEL, contents: 'Why is the sky blue?' });
    expect(r.text).toBe('Blue.');
    const req = suite.fake.requests[0]!;
    expect(req.path).toBe(`${modelPath}:generateContent`);
    if (modelPath.includes('projects/')) expect(req.headers.authorization).toBe('Bearer ya29.test-token');
    else expect(req.headers['x-goog-api-key']).toBe('vertex-express-key');

    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe(`generate_content ${MODEL}`);
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET); // the conventions leave a successful call's status unset
    expect(span!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'generate_content',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.vertex_ai',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: MODEL,
      [A.ATTR_GEN_AI_RESPONSE_MODEL]: MODEL,
      [A.ATTR_GEN_AI_RESPONSE_ID]: 'vtx-1',
      [A.ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [A.ATTR_SERVER_PORT]: suite.fake.port,
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 5_000,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 150,
      [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: 2_000,
      [A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: 50,
      [A.ATTR_GEN_AI_USAGE_COST_CURRENCY]: 'USD',
      [A.ATTR_GEN_AI_USAGE_COST_SOURCE]: 'local',
    });
    const expected = usd(3_000, FLASH.input) + usd(2_000, FLASH.cacheRead) + usd(150, FLASH.output);
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(expected));
  });

  it('prices generateContentStream as gcp.vertex_ai from the usage on its last chunk', async () => {
    suite.fake.enqueue({
      generate: { parts: [{ text: 'Rayleigh scattering, mostly.' }], usage: { promptTokenCount: 800, candidatesTokenCount: 40 }, chunks: 3 },
    });
    let text = '';
    for await (const chunk of await makeClient().models.generateContentStream({ model: MODEL, contents: 'Why is the sky blue?' })) text += chunk.text ?? '';
    expect(text).toBe('Rayleigh scattering, mostly.');
    expect(suite.fake.requests[0]!.path).toBe(`${modelPath}:streamGenerateContent`);
    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.vertex_ai',
      [A.ATTR_GEN_AI_REQUEST_STREAM]: true,
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 800,
      [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 40,
    });
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBeUndefined();
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(800, FLASH.input) + usd(40, FLASH.output)));
  });

  it('prices embedContent (gemini-embedding-001, the :predict route) from the per-embedding token counts', async () => {
    suite.fake.enqueue({ embed: { tokenCounts: [7, 5] } });
    const r = await makeClient().models.embedContent({ model: 'gemini-embedding-001', contents: ['Why is the sky blue?', 'Rayleigh'] });
    expect(r.embeddings).toHaveLength(2);
    expect(suite.fake.requests[0]!.path).toBe(modelPath.replace(MODEL, 'gemini-embedding-001') + ':predict');
    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe('embeddings gemini-embedding-001');
    expect(span!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'embeddings',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.vertex_ai',
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 12,
    });
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBeUndefined();
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(12, EMBEDDING_001.input)));
  });

  it('prices embedContent on the :embedContent route (gemini-embedding-2) from the usage the response reports', async () => {
    suite.fake.enqueue({ embed: { promptTokenCount: 9 } });
    const r = await makeClient().models.embedContent({ model: 'gemini-embedding-2', contents: 'Why is the sky blue?' });
    expect(r.embeddings).toHaveLength(1);
    // The SDK moves the reported usage into the embedding's statistics on this route.
    expect(r.embeddings![0]!.statistics?.tokenCount).toBe(9);
    expect(suite.fake.requests[0]!.path).toBe(modelPath.replace(MODEL, 'gemini-embedding-2') + ':embedContent');
    const [span, ...rest] = await spans();
    expect(rest).toHaveLength(0);
    expect(span!.name).toBe('embeddings gemini-embedding-2');
    expect(span!.attributes).toMatchObject({
      [A.ATTR_GEN_AI_OPERATION_NAME]: 'embeddings',
      [A.ATTR_GEN_AI_PROVIDER_NAME]: 'gcp.vertex_ai',
      [A.ATTR_GEN_AI_REQUEST_MODEL]: 'gemini-embedding-2',
      [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 9,
    });
    expect(span!.attributes[A.ATTR_SPENDTRACE_USAGE_ESTIMATED]).toBeUndefined();
    expect(nano(span!.attributes[A.ATTR_GEN_AI_USAGE_COST_AMOUNT])).toBe(nano(usd(9, EMBEDDING_2.input)));
  });
});
