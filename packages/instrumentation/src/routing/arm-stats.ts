/**
 * What a router knows about one model on its task type: outcomes (the success posterior), the
 * token counts of its calls (expected cost per call) and what its tasks spent in total (expected
 * cost per task). The same shape holds the service's history and this process's observations;
 * the router adds the two.
 */
import { parsePico, picoToUsd, type RoutingArmHistory } from '@spendtrace/semconv';

export class ArmStats {
  /** Tasks with a success or failure credited to this model, and their reward sum. */
  outcomes = 0;
  reward = 0;
  successes = 0;
  /** Tasks routed here whose calls were counted (with or without an outcome). */
  tasks = 0;
  /** LLM calls on this model inside those tasks, and their tokens. */
  calls = 0;
  inputTokens = 0;
  outputTokens = 0;
  /** All LLM calls of those tasks, on any model. */
  taskCalls = 0;
  /** What those tasks cost in total, and what their calls on this model cost, USD. */
  costUsd = 0;
  modelCostUsd = 0;

  add(o: ArmStats | Observation): void {
    if ('outcomes' in o) {
      this.outcomes += o.outcomes;
      this.reward += o.reward;
      this.successes += o.successes;
      this.tasks += o.tasks;
    } else {
      if (o.reward !== undefined) {
        this.outcomes++;
        this.reward += o.reward;
        if (o.reward > 0) this.successes++;
      }
      this.tasks++;
    }
    this.calls += o.calls;
    this.inputTokens += o.inputTokens;
    this.outputTokens += o.outputTokens;
    this.taskCalls += o.taskCalls;
    this.costUsd += o.costUsd;
    this.modelCostUsd += o.modelCostUsd;
  }

  static fromHistory(h: RoutingArmHistory): ArmStats {
    const s = new ArmStats();
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
    const usd = (v: unknown) => {
      try {
        return typeof v === 'string' ? picoToUsd(parsePico(v)) : 0;
      } catch {
        return 0;
      }
    };
    s.outcomes = n(h.outcomes);
    s.reward = Math.min(n(h.reward), s.outcomes);
    s.successes = n(h.successes);
    s.tasks = n(h.tasks);
    s.calls = n(h.calls);
    s.inputTokens = n(h.inputTokens);
    s.outputTokens = n(h.outputTokens);
    s.taskCalls = n(h.taskCalls);
    s.costUsd = usd(h.cost);
    s.modelCostUsd = usd(h.modelCost);
    return s;
  }
}

/** One routed task (or explicit decision) as this process saw it. */
export interface Observation {
  /** `Date.now()` when it was recorded. */
  at: number;
  model: string;
  experiment: string | undefined;
  /** 1 per success (its quality when given), 0 per failure; undefined: no outcome credited (none set, or the task was downgraded). */
  reward: number | undefined;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  taskCalls: number;
  costUsd: number;
  modelCostUsd: number;
}
