export * from './openai.ts';
export * from './anthropic.ts';
export * from './google.ts';
export * from './bedrock.ts';
