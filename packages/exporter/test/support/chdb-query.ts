// node chdb-query.ts DATA_DIR SQL: prints the rows as a JSON array (see serve-process.ts).
import { ChdbStore } from '../../src/store/chdb-store.ts';

const [dir, sql] = process.argv.slice(2);
const store = await ChdbStore.open({ dataDir: dir! });
try {
  process.stdout.write(JSON.stringify(await store.query(sql!)));
} finally {
  await store.close();
}
