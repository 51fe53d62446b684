import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { Tracer } from '@opentelemetry/api';
import { COST_DETAILS, Pricer, type CostDetail } from '@spendtrace/semconv';
import { ENV_CAPTURE_MESSAGE_CONTENT } from '@spendtrace/semconv';
import { anthropicModuleDefinition, isAnthropicPatchable, patchAnthropic, unpatchAnthropic } from './anthropic/index.ts';
import { bedrockRuntimeModuleDefinition, isBedrockRuntimePatchable, patchBedrockRuntime, unpatchBedrockRuntime } from './bedrock/index.ts';
import { googleGenAIModuleDefinition, isGoogleGenAIPatchable, patchGoogleGenAI, unpatchGoogleGenAI } from './google-genai/index.ts';
import { patchEsmCopies, unpatchEsmCopies } from './esm-late-patch.ts';
import { GenAIMetrics } from './metrics.ts';
import { setToolCostListener } from './task-context.ts';
import type { ChatHost } from './openai/call.ts';
import { openaiTargets, patchOpenAITargets, unpatchOpenAITargets, type OpenAITargets, type Wrapper } from './openai/index.ts';
import type { OpenAIProviderMap, SpendtraceInstrumentationConfig, StreamUsageMode } from './types.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

/** The `openai` majors whose APIPromise / Stream internals this instrumentation attaches to. */
export const OPENAI_SUPPORTED_VERSIONS = ['>=5.0.0 <8'];

const STREAM_USAGE_MODES: readonly StreamUsageMode[] = ['estimate', 'inject', 'off'];

/**
 * Turns `openai`, `@anthropic-ai/sdk`, `@google/genai` and `@aws-sdk/client-bedrock-runtime` calls into priced GenAI spans (ARCHITECTURE.md), attributed to the task
 * and tool they ran in. Register it with a NodeSDK, or `manuallyInstrument()` for bundled apps.
 */
export class SpendtraceInstrumentation extends InstrumentationBase<SpendtraceInstrumentationConfig> implements ChatHost {
  /** The most recently constructed instance: `manuallyInstrument()` uses it when given none. */
  static latest: SpendtraceInstrumentation | undefined;

  private _pricer: Pricer | undefined;
  private _streamUsage: StreamUsageMode = 'estimate';
  private _captureContent = false;
  private _costDetail: CostDetail = 'total';
  private _manualTargets: OpenAITargets[] | undefined;
  private _wrapper: Wrapper | undefined;
  /** `@anthropic-ai/sdk` / `@google/genai` exports given to `manuallyInstrument()`, re-patched on enable(). */
  private _manualAnthropic: unknown[] | undefined;
  private _manualGoogleGenAI: unknown[] | undefined;
  private _manualBedrock: unknown[] | undefined;
  private _metrics: GenAIMetrics | undefined;

  constructor(config: SpendtraceInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
    this.applyConfig(this.getConfig());
    SpendtraceInstrumentation.latest = this;
    setToolCostListener((usd, attributes) => {
      try {
        this.metrics.recordToolCost(usd, attributes);
      } catch (err) {
        this._diag.error('could not record a tool cost metric', err);
      }
    });
  }

  override setConfig(config: SpendtraceInstrumentationConfig = {}): void {
    super.setConfig(config);
    // The base constructor calls setConfig before our fields exist; the constructor applies it then.
    if (this._manualTargets !== undefined || this._pricer !== undefined) this.applyConfig(this.getConfig());
  }

  /** Env vars are read once here, as the contrib instrumentations do. */
  private applyConfig(config: SpendtraceInstrumentationConfig): void {
    this._manualTargets ??= [];
    try {
      this._pricer = new Pricer(config.pricing ?? {});
    } catch (err) {
      this._diag.error('price overrides could not be loaded; using the catalogue only', err);
      this._pricer = new Pricer({ overrides: [], overridesFile: undefined });
    }
    const envMode = process.env.SPENDTRACE_STREAM_USAGE?.trim().toLowerCase() as StreamUsageMode | undefined;
    const mode = config.streamUsage ?? (envMode && STREAM_USAGE_MODES.includes(envMode) ? envMode : 'estimate');
    this._streamUsage = STREAM_USAGE_MODES.includes(mode) ? mode : 'estimate';
    const envCapture = process.env[ENV_CAPTURE_MESSAGE_CONTENT]?.trim().toLowerCase();
    this._captureContent = config.captureMessageContent ?? (envCapture === 'true' || envCapture === '1');
    const envDetail = process.env.SPENDTRACE_COST_ATTRIBUTES?.trim().toLowerCase() as CostDetail | undefined;
    const detail = config.costAttributes ?? (envDetail && COST_DETAILS.includes(envDetail) ? envDetail : 'total');
    this._costDetail = COST_DETAILS.includes(detail) ? detail : 'total';
  }

  get pricer(): Pricer {
    return (this._pricer ??= new Pricer());
  }
  get streamUsage(): StreamUsageMode {
    return this._streamUsage;
  }
  get captureMessageContent(): boolean {
    return this._captureContent;
  }
  get costDetail(): CostDetail {
    return this._costDetail;
  }
  /** The instrumentation's tracer (every call records its own metrics when it finishes: inference-call.ts). */
  get callTracer(): Tracer {
    return this.tracer;
  }
  get diag() {
    return this._diag;
  }
  /** GenAI metric instruments, from the instrumentation's meter (NodeSDK sets its meter provider). */
  get metrics(): GenAIMetrics {
    return (this._metrics ??= new GenAIMetrics(this.meter));
  }
  protected override _updateMetricInstruments(): void {
    // Called by the base constructor too, before this class's fields exist: built lazily.
    this._metrics = undefined;
  }

  protected init() {
    return [
      new InstrumentationNodeModuleDefinition(
        'openai',
        OPENAI_SUPPORTED_VERSIONS,
        (moduleExports) => {
          this.patchOpenAI(moduleExports);
          return moduleExports;
        },
        (moduleExports) => {
          if (moduleExports) this.unpatchOpenAI(openaiTargets(moduleExports));
        },
      ),
      anthropicModuleDefinition(this),
      googleGenAIModuleDefinition(this),
      bedrockRuntimeModuleDefinition(this),
    ];
  }

  /** `openaiProviders` from the config (base URL / host -> `gen_ai.provider.name`), read per call. */
  get openaiProviders(): OpenAIProviderMap | undefined {
    return this.getConfig().openaiProviders;
  }

  /** `_wrap` / `_unwrap` for the provider modules (wrapping.ts): the one way methods are wrapped. */
  get wrapper(): Wrapper {
    return (this._wrapper ??= {
      wrap: (target, name, wrapper) => void this._wrap(target as Record<string, any>, name, wrapper),
      unwrap: (target, name) => this._unwrap(target as Record<string, any>, name),
    });
  }

  /** Patches `create` of chat completions, responses, embeddings and legacy completions (and the client's per-attempt fetch, for retry events) behind an `openai` export. */
  patchOpenAI(moduleExports: unknown): boolean {
    const targets = openaiTargets(moduleExports);
    if (!targets.completions) {
      this._diag.warn('openai module has no Chat.Completions class; openai not instrumented');
      return false;
    }
    patchOpenAITargets(this, this.wrapper, targets);
    return true;
  }

  private unpatchOpenAI(targets: OpenAITargets): void {
    unpatchOpenAITargets(this.wrapper, targets);
  }

  /** @internal For `manuallyInstrument()`: patch now, and follow enable()/disable() from here on. */
  instrumentManually(openai: unknown): boolean {
    const targets = openaiTargets(openai);
    if (!targets.completions) return false;
    this._manualTargets ??= [];
    if (!this._manualTargets.some((t) => t.completions === targets.completions)) this._manualTargets.push(targets);
    return this.getConfig().enabled === false ? true : this.patchOpenAI(openai);
  }

  /** @internal For `manuallyInstrument()`: the `@anthropic-ai/sdk` module, `Anthropic` class or a client. */
  instrumentAnthropicManually(exports: unknown): boolean {
    const targets = (this._manualAnthropic ??= []);
    if (!targets.includes(exports)) targets.push(exports);
    if (this.getConfig().enabled !== false) patchAnthropic(exports, this);
    return isAnthropicPatchable(exports);
  }

  /** @internal For `manuallyInstrument()`: the `@google/genai` module or a `GoogleGenAI` client. */
  instrumentGoogleGenAIManually(exports: unknown): boolean {
    const targets = (this._manualGoogleGenAI ??= []);
    if (!targets.includes(exports)) targets.push(exports);
    if (this.getConfig().enabled !== false) patchGoogleGenAI(exports, this);
    return isGoogleGenAIPatchable(exports);
  }

  /** @internal For `manuallyInstrument()`: the `@aws-sdk/client-bedrock-runtime` module. */
  instrumentBedrockRuntimeManually(exports: unknown): boolean {
    const targets = (this._manualBedrock ??= []);
    if (!targets.includes(exports)) targets.push(exports);
    if (this.getConfig().enabled !== false) patchBedrockRuntime(exports, this);
    return isBedrockRuntimePatchable(exports);
  }

  override enable(): void {
    super.enable();
    patchEsmCopies(this, OPENAI_SUPPORTED_VERSIONS); // SDKs an ESM app imported before this ran
    for (const e of this._manualAnthropic ?? []) patchAnthropic(e, this);
    for (const e of this._manualGoogleGenAI ?? []) patchGoogleGenAI(e, this);
    for (const e of this._manualBedrock ?? []) patchBedrockRuntime(e, this);
    for (const t of this._manualTargets ?? []) patchOpenAITargets(this, this.wrapper, t, true);
  }

  override disable(): void {
    super.disable();
    unpatchEsmCopies(this);
    for (const t of this._manualTargets ?? []) this.unpatchOpenAI(t);
    for (const e of this._manualAnthropic ?? []) unpatchAnthropic(e, this.wrapper);
    for (const e of this._manualGoogleGenAI ?? []) unpatchGoogleGenAI(e, this.wrapper);
    for (const e of this._manualBedrock ?? []) unpatchBedrockRuntime(e, this.wrapper);
  }
}
