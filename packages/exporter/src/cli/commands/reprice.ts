/** `spendtrace reprice`: price stored spans again after a price was added or changed, rollups included. */
import { resolve } from 'node:path';
import { formatPico, Pricer, PricingConfigError } from '@spendtrace/semconv';
import { reprice as repriceStore, REPRICEABLE_SOURCES } from '../../reprice/index.ts';
import type { RepriceResult } from '../../reprice/index.ts';
import { ENV, pick } from '../config.ts';
import { checkSince, flagInt, parseFlags } from '../context.ts';
import type { Command } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { describeStore, findRunningServe, openStore, storeFailure } from '../open-store.ts';
import { resolveStore, STORE_FLAGS, STORE_FLAGS_HELP } from '../settings.ts';

const help = `spendtrace reprice — recompute stored span costs with current prices, rollups included

Usage: spendtrace reprice [--since 30d|all] [--prices FILE] [--all] [--dry-run] [--service NAME] [options]

After you add a price (an overrides file, or a newer catalogue), spans stored as unpriced are
priced from their stored token counts, at the price in effect when each span ended. With --all,
every span spendtrace priced itself (cost source ${REPRICEABLE_SOURCES.join(' or ')}) is recomputed too; costs
the provider reported are never touched. task_costs and hourly_costs are corrected exactly
(delta rows, deduplicated per batch), then the spans rows are rewritten; a rerun changes nothing.

Options:
  --since DURATION         spans that started in this window: 30m, 24h, 7d, or all  [default 30d]
  --prices FILE            price overrides JSON ({"models": [...]})  [env SPENDTRACE_PRICES_FILE]
  --all                    also reprice spans that already have a cost (not provider-reported)
  --dry-run                show what would change; write nothing
  --service NAME           only spans from this service.name
  --batch-size N           spans per batch                                   [default 10000]

${STORE_FLAGS_HELP}

The embedded data directory belongs to one process: stop \`spendtrace serve\` before repricing
its --data directory (reprice exits 4 while a serve owns it).

Examples:
  spendtrace reprice --prices ./prices.json --dry-run
  spendtrace reprice --prices ./prices.json --since all
  spendtrace reprice --all --since 7d --service checkout
`;

const FLAGS = {
  ...STORE_FLAGS,
  since: { type: 'string' },
  prices: { type: 'string' },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  service: { type: 'string' },
  'batch-size': { type: 'string' },
} as const;

export const reprice: Command = {
  name: 'reprice',
  summary: 'recompute costs of stored spans after a price change (rollups too)',
  help,
  async run(argv, ctx) {
    const v = parseFlags('reprice', argv, FLAGS);
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    const { store: settings, file } = resolveStore('reprice', v, ctx);
    const since = checkSince(v.since ?? '30d', 'reprice');
    const batchSize = flagInt(v['batch-size'], '--batch-size', 'reprice', 1, 1_000_000);
    const service = pick(v.service, undefined, file.service, '', (s) => s);
    const prices = pick(v.prices, ctx.env[ENV.PRICES], file.prices, undefined as string | undefined, (s) => s);
    let pricer: Pricer;
    try {
      pricer = new Pricer(prices ? { overridesFile: resolve(ctx.cwd, prices) } : {});
    } catch (err) {
      if (err instanceof PricingConfigError) throw new CliError(EXIT.CONFIG, err.message, { cause: err });
      throw err;
    }

    if (!settings.clickhouseUrl) {
      const running = findRunningServe(settings.data);
      if (running) {
        throw new CliError(
          EXIT.STORE,
          `spendtrace serve (pid ${running.pid}, ${running.url}) owns ${settings.data}; reprice needs the data directory to itself`,
          {
            hint: 'stop the serve, run reprice, then start it again (spans sent meanwhile are retried by OTLP exporters)',
          },
        );
      }
    }

    const store = await openStore(settings);
    let result: RepriceResult;
    try {
      ctx.progress(
        `reprice: ${opts(v.all, v['dry-run'])} spans in ${describeStore(settings)}, since ${since}${service ? `, service ${service}` : ''}, prices ${pricer.version}`,
      );
      result = await repriceStore(store, {
        pricer,
        database: settings.database,
        since,
        service,
        all: Boolean(v.all),
        dryRun: Boolean(v['dry-run']),
        ...(batchSize ? { batchSize } : {}),
        onProgress: (p) => ctx.progress(`reprice: batch ${p.batches}: ${p.scanned} spans scanned, ${p.repriced} repriced`),
      });
    } catch (err) {
      throw storeFailure(err, settings);
    } finally {
      await store.close();
    }
    ctx.out(summary(result));
    return EXIT.OK;
  },
};

function opts(all: boolean | undefined, dry: boolean | undefined): string {
  return `${dry ? 'dry run over ' : ''}${all ? 'unpriced and spendtrace-priced' : 'unpriced'}`;
}

function summary(r: RepriceResult): string {
  const sign = r.delta < 0n ? '-' : '+';
  const abs = r.delta < 0n ? -r.delta : r.delta;
  const lines = [
    `${r.dryRun ? 'would reprice' : 'repriced'} ${r.repriced} spans (${r.newlyPriced} were unpriced) of ${r.scanned} scanned`,
    `still unpriced: ${r.stillUnpriced}${r.stillUnpriced ? ' (model without a price, or no token counts stored)' : ''}`,
    `total change: ${sign}$${formatPico(abs)}`,
  ];
  if (r.recovered) lines.unshift(`finished ${r.recovered} batch${r.recovered === 1 ? '' : 'es'} an interrupted run had started (from its journal)`);
  if (r.keptWithoutPrice) lines.push(`kept as they were: ${r.keptWithoutPrice} priced spans whose model has no price now`);
  if (r.dryRun) lines.push('dry run: nothing was written');
  return lines.join('\n') + '\n';
}
