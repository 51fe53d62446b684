/**
 * Every span attribute name spendtrace reads or writes, in one place.
 *
 * `gen_ai.*` names follow the OpenTelemetry GenAI semantic conventions (experimental, latest);
 * they are incubating, so they are defined here rather than imported from
 * `@opentelemetry/semantic-conventions`' stable entry point. `spendtrace.*` names are our own.
 */

// --- GenAI semantic conventions (experimental) ---------------------------------------------
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name' as const;
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens' as const;
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature' as const;
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p' as const;
export const ATTR_GEN_AI_REQUEST_TOP_K = 'gen_ai.request.top_k' as const;
export const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = 'gen_ai.request.frequency_penalty' as const;
export const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = 'gen_ai.request.presence_penalty' as const;
export const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = 'gen_ai.request.stop_sequences' as const;
export const ATTR_GEN_AI_REQUEST_SEED = 'gen_ai.request.seed' as const;
export const ATTR_GEN_AI_REQUEST_CHOICE_COUNT = 'gen_ai.request.choice.count' as const;
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream' as const;
export const ATTR_GEN_AI_OUTPUT_TYPE = 'gen_ai.output.type' as const;
export const ATTR_GEN_AI_REQUEST_ENCODING_FORMATS = 'gen_ai.request.encoding_formats' as const;
export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = 'gen_ai.embeddings.dimension.count' as const;
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id' as const;
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons' as const;
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk' as const;
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens' as const;
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = 'gen_ai.usage.cache_write.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens' as const;
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name' as const;
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id' as const;
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id' as const;
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name' as const;
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id' as const;
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type' as const;
export const ATTR_GEN_AI_PROMPT_NAME = 'gen_ai.prompt.name' as const;
export const ATTR_GEN_AI_PROMPT_VERSION = 'gen_ai.prompt.version' as const;
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages' as const;
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages' as const;
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = 'gen_ai.system_instructions' as const;
/** On the `gen_ai.client.token.usage` metric: `input` or `output`. */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type' as const;
/** OpenAI-specific (GenAI conventions, openai.md): which API surface, `chat_completions` or `responses`. */
export const ATTR_OPENAI_API_TYPE = 'openai.api.type' as const;
export const ATTR_OPENAI_REQUEST_SERVICE_TIER = 'openai.request.service_tier' as const;
export const ATTR_OPENAI_RESPONSE_SERVICE_TIER = 'openai.response.service_tier' as const;

// Cost: no ratified convention yet. `gen_ai.usage.cost.*` follows the open proposal;
// `gen_ai.usage.cost` (same amount) is what OpenLIT and Langfuse read today.
export const ATTR_GEN_AI_USAGE_COST = 'gen_ai.usage.cost' as const;
export const ATTR_GEN_AI_USAGE_COST_AMOUNT = 'gen_ai.usage.cost.amount' as const;
export const ATTR_GEN_AI_USAGE_COST_CURRENCY = 'gen_ai.usage.cost.currency' as const;
export const ATTR_GEN_AI_USAGE_COST_SOURCE = 'gen_ai.usage.cost.source' as const;

// --- Stable general conventions used on GenAI spans ----------------------------------------
export const ATTR_SERVER_ADDRESS = 'server.address' as const;
export const ATTR_SERVER_PORT = 'server.port' as const;
export const ATTR_ERROR_TYPE = 'error.type' as const;
export const ATTR_USER_ID = 'user.id' as const;
export const ATTR_SERVICE_NAME = 'service.name' as const;
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code' as const;

// --- spendtrace ------------------------------------------------------------------------------
export const ATTR_SPENDTRACE_COST_INPUT = 'spendtrace.cost.input' as const;
export const ATTR_SPENDTRACE_COST_OUTPUT = 'spendtrace.cost.output' as const;
export const ATTR_SPENDTRACE_COST_CACHE_READ = 'spendtrace.cost.cache_read' as const;
export const ATTR_SPENDTRACE_COST_CACHE_WRITE = 'spendtrace.cost.cache_write' as const;
export const ATTR_SPENDTRACE_COST_REASONING = 'spendtrace.cost.reasoning' as const;
export const ATTR_SPENDTRACE_COST_UNPRICED = 'spendtrace.cost.unpriced' as const;
/** Fees for provider-run tools billed with an inference call (OpenAI web / file search), USD; part of the span's total. */
export const ATTR_SPENDTRACE_COST_TOOL = 'spendtrace.cost.tool' as const;
/** Provider-run web searches billed with the call (OpenAI `web_search_call` items): priced per call, so repricing needs the count. */
export const ATTR_SPENDTRACE_USAGE_WEB_SEARCHES = 'spendtrace.usage.web_searches' as const;
/** Provider-run file (vector store) searches billed with the call (OpenAI `file_search_call` items). */
export const ATTR_SPENDTRACE_USAGE_FILE_SEARCHES = 'spendtrace.usage.file_searches' as const;
/** Set on a span recorded from a Batch API result (priced at the batch discount), not a live call. */
export const ATTR_SPENDTRACE_BATCH = 'spendtrace.batch' as const;
/** The app's `custom_id` of a Batch API request, on the span recorded from its result line. */
export const ATTR_SPENDTRACE_BATCH_CUSTOM_ID = 'spendtrace.batch.custom_id' as const;
export const ATTR_SPENDTRACE_PRICING_VERSION = 'spendtrace.pricing.version' as const;
export const ATTR_SPENDTRACE_USAGE_ESTIMATED = 'spendtrace.usage.estimated' as const;
export const ATTR_SPENDTRACE_TASK_ID = 'spendtrace.task.id' as const;
export const ATTR_SPENDTRACE_TASK_NAME = 'spendtrace.task.name' as const;
/** Set on the span that `withTask` opens, so the exporter knows a task root without guessing. */
export const ATTR_SPENDTRACE_TASK_ROOT = 'spendtrace.task.root' as const;
export const ATTR_SPENDTRACE_TASK_OUTCOME = 'spendtrace.task.outcome' as const;
export const ATTR_SPENDTRACE_TASK_OUTCOME_REASON = 'spendtrace.task.outcome.reason' as const;
export const ATTR_SPENDTRACE_TASK_QUALITY = 'spendtrace.task.quality' as const;
export const ATTR_SPENDTRACE_TASK_BUDGET = 'spendtrace.task.budget_usd' as const;
export const ATTR_SPENDTRACE_TOOL_COST_AMOUNT = 'spendtrace.tool.cost.amount' as const;
/** On an LLM call made inside `withTool`: the tool it ran for (the span itself is not a tool span). */
export const ATTR_SPENDTRACE_TOOL_NAME = 'spendtrace.tool.name' as const;
export const ATTR_SPENDTRACE_COST_REQUEST = 'spendtrace.cost.request' as const;
export const ATTR_SPENDTRACE_RETRY_ATTEMPT = 'spendtrace.retry.attempt' as const;
export const ATTR_SPENDTRACE_REQUEST_HASH = 'spendtrace.request.hash' as const;
/**
 * Span event, one per SDK-internal retry: `spendtrace.retry.attempt` (1 for the first retry),
 * with `http.response.status_code` and/or `error.type` of the attempt that failed before it.
 */
export const EVENT_SPENDTRACE_RETRY = 'spendtrace.retry' as const;
/** How many identical requests (same request hash) came before this one in the same task: app-level repeats. */
export const ATTR_SPENDTRACE_REQUEST_REPEAT = 'spendtrace.request.repeat' as const;
export const ATTR_SPENDTRACE_BUDGET_EXCEEDED = 'spendtrace.budget.exceeded' as const;
/** On a task root: the tenant / customer the task was done for (showback and margin reports group by it). */
export const ATTR_SPENDTRACE_TENANT_ID = 'spendtrace.tenant.id' as const;
/** On a task root: what the app charged its customer for the task, USD (reports show the margin against its cost). */
export const ATTR_SPENDTRACE_TASK_CHARGED = 'spendtrace.task.charged_usd' as const;

// Model routing (ModelRouter): what was chosen for a task type and why, on the task span (the span
// that carries the outcome it learns from), or as a `spendtrace.route.decision` event outside a task.
/** The task type a router decides for (its `taskType`; often the task name). */
export const ATTR_SPENDTRACE_ROUTE_TASK_TYPE = 'spendtrace.route.task_type' as const;
/** The model the router chose. */
export const ATTR_SPENDTRACE_ROUTE_MODEL = 'spendtrace.route.model' as const;
/** The candidates that were eligible (priced and within the cost ceiling), cheapest first. */
export const ATTR_SPENDTRACE_ROUTE_CANDIDATES = 'spendtrace.route.candidates' as const;
/** Candidates left out and why, as `model: reason` (`over_ceiling`, `unpriced`). */
export const ATTR_SPENDTRACE_ROUTE_EXCLUDED = 'spendtrace.route.excluded' as const;
/** Why this model: one of {@link ROUTE_REASON}. */
export const ATTR_SPENDTRACE_ROUTE_REASON = 'spendtrace.route.reason' as const;
/** The chosen model's expected cost per call for this task type (observed tokens × catalogue price), USD. */
export const ATTR_SPENDTRACE_ROUTE_EXPECTED_COST = 'spendtrace.route.expected_cost_usd' as const;
/** The chosen model's posterior mean success rate for this task type. */
export const ATTR_SPENDTRACE_ROUTE_EXPECTED_SUCCESS = 'spendtrace.route.expected_success' as const;
/** The router's cost ceiling per call, USD. */
export const ATTR_SPENDTRACE_ROUTE_MAX_COST = 'spendtrace.route.max_cost_usd' as const;
/** The experiment this decision belongs to (`{incumbent}->{challenger}` unless named). */
export const ATTR_SPENDTRACE_ROUTE_EXPERIMENT = 'spendtrace.route.experiment' as const;
/** `incumbent` or `challenger`. */
export const ATTR_SPENDTRACE_ROUTE_EXPERIMENT_ARM = 'spendtrace.route.experiment.arm' as const;
/** The experiment's margin, in success-rate points as a fraction (0.02 = 2 points). */
export const ATTR_SPENDTRACE_ROUTE_EXPERIMENT_MARGIN = 'spendtrace.route.experiment.margin' as const;
/** The experiment's confidence (0.95). */
export const ATTR_SPENDTRACE_ROUTE_EXPERIMENT_CONFIDENCE = 'spendtrace.route.experiment.confidence' as const;
/** Set on a task span when the task tracked over its budget and its later calls went to a cheaper model. */
export const ATTR_SPENDTRACE_ROUTE_DOWNGRADED_TO = 'spendtrace.route.downgraded_to' as const;
/** Span event for a routing decision made outside a task, and for a downgrade inside one. */
export const EVENT_SPENDTRACE_ROUTE_DECISION = 'spendtrace.route.decision' as const;
export const EVENT_SPENDTRACE_ROUTE_DOWNGRADE = 'spendtrace.route.downgrade' as const;
/** On a budgeted task's span at its end: what it spent in all (LLM calls + tool fees), USD. */
export const ATTR_SPENDTRACE_TASK_COST = 'spendtrace.task.cost_usd' as const;
/** On a budgeted task's span: how the budget is checked before a call (`worst-case` | `spent`). */
export const ATTR_SPENDTRACE_BUDGET_CHECK = 'spendtrace.budget.check' as const;
/** On a budgeted task's span at its end: LLM calls refused by the budget before any request was sent. */
export const ATTR_SPENDTRACE_BUDGET_REFUSALS = 'spendtrace.budget.refusals' as const;
/** The worst-case cost of a call (local input estimate + its output cap at the model's prices), USD. */
export const ATTR_SPENDTRACE_BUDGET_ESTIMATE = 'spendtrace.budget.estimate_usd' as const;
/** Span event on the task span, one per refused call: model, estimate, running cost, reason. */
export const EVENT_SPENDTRACE_BUDGET_REFUSED = 'spendtrace.budget.refused' as const;
/** Span event on the task span when its running cost first passes the budget. */
export const EVENT_SPENDTRACE_BUDGET_EXCEEDED = 'spendtrace.budget.exceeded' as const;
/** Why a call was refused: `spent` (the budget is used up) or `worst-case` (this call could cross it). */
export const ATTR_SPENDTRACE_BUDGET_REASON = 'spendtrace.budget.reason' as const;

// --- Names other instrumentations emit, read by the exporter so their spans price too -------
export const PEER_GEN_AI_SYSTEM = 'gen_ai.system' as const;
export const PEER_GEN_AI_USAGE_PROMPT_TOKENS = 'gen_ai.usage.prompt_tokens' as const;
export const PEER_GEN_AI_USAGE_COMPLETION_TOKENS = 'gen_ai.usage.completion_tokens' as const;
export const PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens' as const;
export const PEER_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS_ALT = 'gen_ai.usage.cache_read_input_tokens' as const;
export const PEER_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS_ALT = 'gen_ai.usage.cache_creation_input_tokens' as const;
export const PEER_GEN_AI_USAGE_REASONING_TOKENS = 'gen_ai.usage.reasoning_tokens' as const;
export const PEER_LLM_MODEL_NAME = 'llm.model_name' as const;
export const PEER_LLM_PROVIDER = 'llm.provider' as const;
export const PEER_LLM_SYSTEM = 'llm.system' as const;
export const PEER_LLM_TOKEN_COUNT_PROMPT = 'llm.token_count.prompt' as const;
export const PEER_LLM_TOKEN_COUNT_COMPLETION = 'llm.token_count.completion' as const;
export const PEER_LLM_TOKEN_COUNT_CACHE_READ = 'llm.token_count.prompt_details.cache_read' as const;
export const PEER_LLM_TOKEN_COUNT_CACHE_WRITE = 'llm.token_count.prompt_details.cache_write' as const;
export const PEER_LLM_TOKEN_COUNT_REASONING = 'llm.token_count.completion_details.reasoning' as const;
export const PEER_LLM_COST_TOTAL = 'llm.cost.total' as const;
export const PEER_OPENINFERENCE_SPAN_KIND = 'openinference.span.kind' as const;
export const PEER_LLM_USAGE_PROMPT_TOKENS = 'llm.usage.prompt_tokens' as const;
export const PEER_LLM_USAGE_COMPLETION_TOKENS = 'llm.usage.completion_tokens' as const;
export const PEER_AI_MODEL_ID = 'ai.model.id' as const;
export const PEER_AI_MODEL_PROVIDER = 'ai.model.provider' as const;
export const PEER_AI_USAGE_PROMPT_TOKENS = 'ai.usage.promptTokens' as const;
export const PEER_AI_USAGE_COMPLETION_TOKENS = 'ai.usage.completionTokens' as const;
export const PEER_AI_USAGE_INPUT_TOKENS = 'ai.usage.inputTokens' as const;
export const PEER_AI_USAGE_OUTPUT_TOKENS = 'ai.usage.outputTokens' as const;
export const PEER_AI_USAGE_CACHED_INPUT_TOKENS = 'ai.usage.cachedInputTokens' as const;
export const PEER_AI_USAGE_REASONING_TOKENS = 'ai.usage.reasoningTokens' as const;
/** Vercel AI SDK: `ai.generateText` wraps `ai.generateText.doGenerate`; only the inner call is an LLM call. */
export const PEER_AI_OPERATION_ID = 'ai.operationId' as const;
export const PEER_AI_RESPONSE_MODEL = 'ai.response.model' as const;
/** Traceloop / OpenLLMetry: workflow | task | agent | tool on the spans that wrap LLM calls. */
export const PEER_TRACELOOP_SPAN_KIND = 'traceloop.span.kind' as const;

// --- Written by the exporter ------------------------------------------------------------------
/** Stable OTel names for the instrumentation scope, kept in the spans table's attribute map. */
export const ATTR_OTEL_SCOPE_NAME = 'otel.scope.name' as const;
export const ATTR_OTEL_SCOPE_VERSION = 'otel.scope.version' as const;
/** What the exporter clamped or dropped on a span (absurd values), `; `-separated, kept in the attribute map. */
export const ATTR_SPENDTRACE_INGEST_WARNINGS = 'spendtrace.ingest.warnings' as const;

// --- Values ----------------------------------------------------------------------------------
export const GEN_AI_OPERATION = {
  CHAT: 'chat',
  TEXT_COMPLETION: 'text_completion',
  EMBEDDINGS: 'embeddings',
  GENERATE_CONTENT: 'generate_content',
  EXECUTE_TOOL: 'execute_tool',
  INVOKE_AGENT: 'invoke_agent',
  CREATE_AGENT: 'create_agent',
} as const;

export const GEN_AI_PROVIDER = {
  OPENAI: 'openai',
  AZURE_OPENAI: 'azure.ai.openai',
  ANTHROPIC: 'anthropic',
  GCP_GEMINI: 'gcp.gemini',
  GCP_VERTEX_AI: 'gcp.vertex_ai',
  GROQ: 'groq',
  DEEPSEEK: 'deepseek',
  MISTRAL: 'mistral_ai',
  X_AI: 'x_ai',
  OPENROUTER: 'openrouter',
  TOGETHER: 'together_ai',
  FIREWORKS: 'fireworks',
  AWS_BEDROCK: 'aws.bedrock',
  SELF_HOSTED: 'self_hosted',
} as const;

export const OPENAI_API_TYPE = { CHAT_COMPLETIONS: 'chat_completions', RESPONSES: 'responses' } as const;

export const COST_SOURCE = { PROVIDER: 'provider', LOCAL: 'local' } as const;
export const TASK_OUTCOME = { SUCCESS: 'success', FAILURE: 'failure', UNKNOWN: 'unknown' } as const;
export type TaskOutcome = (typeof TASK_OUTCOME)[keyof typeof TASK_OUTCOME];

/** `spendtrace.route.reason` values. */
export const ROUTE_REASON = {
  /** Thompson sampling: the lowest sampled cost per success among the eligible candidates. */
  COST_PER_SUCCESS: 'lowest_cost_per_success',
  /** No candidate's sampled success rate reached `minSuccessRate`: the highest one was taken. */
  BELOW_SUCCESS_FLOOR: 'highest_success_below_floor',
  /** No priced candidate fits the ceiling: the cheapest was taken (the ceiling is exceeded). */
  NONE_WITHIN_CEILING: 'none_within_ceiling',
  EXPERIMENT_INCUMBENT: 'experiment_incumbent',
  EXPERIMENT_CHALLENGER: 'experiment_challenger',
  /** The router routes to a fixed incumbent (set, or promoted by an experiment). */
  INCUMBENT: 'incumbent',
  /** The task tracked over its budget at its midpoint: the next cheaper eligible model. */
  BUDGET_DOWNGRADE: 'budget_downgrade',
} as const;
export type RouteReason = (typeof ROUTE_REASON)[keyof typeof ROUTE_REASON];

/** Baggage keys carrying attribution across process boundaries (W3C baggage). */
export const BAGGAGE_TASK_ID = 'spendtrace.task.id' as const;
export const BAGGAGE_TASK_NAME = 'spendtrace.task.name' as const;
export const BAGGAGE_AGENT_NAME = 'gen_ai.agent.name' as const;
export const BAGGAGE_USER_ID = 'user.id' as const;

/** Opt-in env var for message content capture, as named by the GenAI conventions. */
export const ENV_CAPTURE_MESSAGE_CONTENT = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT' as const;
