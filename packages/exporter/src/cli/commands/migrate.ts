/** `spendtrace migrate`: create the database, tables and materialized views (idempotent). */
import { migrate as applySchema, renderSchema, SchemaConfigError } from '../../schema/index.ts';
import { flagInt, parseFlags } from '../context.ts';
import type { Command } from '../context.ts';
import { CliError, EXIT } from '../errors.ts';
import { describeStore, openStore, storeFailure } from '../open-store.ts';
import { resolveStore, STORE_FLAGS, STORE_FLAGS_HELP } from '../settings.ts';

const help = `spendtrace migrate — create the spendtrace schema in the store

Usage: spendtrace migrate [--data DIR | --clickhouse-url URL] [--database NAME] [--cluster NAME] [--ttl-days N]
                         [--task-ttl-days N] [--hourly-ttl-days N] [--print]

Creates the database, the spans table, the task_costs and hourly_costs rollups and the
materialized views that fill them. Every CREATE is IF NOT EXISTS, so running it again is safe.
\`serve\` runs it on start; run it yourself for a ClickHouse server whose DDL you manage.

Options:
  --cluster NAME           ON CLUSTER DDL: Replicated *_local tables on every shard and Distributed
                           tables (sharded by task id) under the plain names, which the service
                           writes and the reports read (ClickHouse servers only)
  --ttl-days N             drop raw spans N days after they started
  --task-ttl-days N        drop task_costs rows N days after the task was last seen
  --hourly-ttl-days N      drop hourly_costs rows N days after their hour
                           Each TTL is also applied to tables that already exist (ALTER TABLE ...
                           MODIFY TTL; ClickHouse then drops expired rows from existing parts).
                           Without the option a table's TTL is left as it is.
  --print                  print the DDL instead of running it (for operators who own their schema,
                           then start \`serve --skip-schema\`)

${STORE_FLAGS_HELP}
`;

export const migrate: Command = {
  name: 'migrate',
  summary: 'create the ClickHouse database, tables and materialized views',
  help,
  async run(argv, ctx) {
    const v = parseFlags('migrate', argv, {
      ...STORE_FLAGS,
      cluster: { type: 'string' },
      'ttl-days': { type: 'string' },
      'task-ttl-days': { type: 'string' },
      'hourly-ttl-days': { type: 'string' },
      print: { type: 'boolean' },
    } as const);
    if (v.help) {
      ctx.out(help);
      return EXIT.OK;
    }
    const { store: settings } = resolveStore('migrate', v, ctx);
    const ttlDays = flagInt(v['ttl-days'], '--ttl-days', 'migrate', 1);
    const taskTtlDays = flagInt(v['task-ttl-days'], '--task-ttl-days', 'migrate', 1);
    const hourlyTtlDays = flagInt(v['hourly-ttl-days'], '--hourly-ttl-days', 'migrate', 1);
    const schema = {
      database: settings.database,
      ...(v.cluster ? { cluster: v.cluster } : {}),
      ...(ttlDays ? { ttlDays } : {}),
      ...(taskTtlDays ? { taskTtlDays } : {}),
      ...(hourlyTtlDays ? { hourlyTtlDays } : {}),
    };
    if (v.print) {
      try {
        const statements = renderSchema(schema);
        ctx.out(statements.map((st) => `-- ${st.file}\n${st.sql};\n`).join('\n'));
      } catch (err) {
        if (err instanceof SchemaConfigError) throw new CliError(EXIT.USAGE, err.message, { cause: err });
        throw err;
      }
      return EXIT.OK;
    }
    const store = await openStore(settings);
    try {
      const applied = await applySchema(store, schema);
      const ttls = applied.filter((f) => f.endsWith('-ttl.sql')).length;
      ctx.out(
        `schema ready in ${describeStore(settings)} (${applied.length} statements applied: creates are IF NOT EXISTS${ttls ? `; TTL set on ${ttls} table${ttls > 1 ? 's' : ''}` : ''})\n`,
      );
    } catch (err) {
      if (err instanceof SchemaConfigError) throw new CliError(EXIT.USAGE, err.message, { cause: err });
      throw storeFailure(err, settings);
    } finally {
      await store.close();
    }
    return EXIT.OK;
  },
};
