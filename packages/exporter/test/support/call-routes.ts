/** Calls an `/api` route handler in-process with a minimal response object (as the server would). */
import type { ExtraRoutes } from '../../src/reports/index.ts';

export async function callRoute(routes: ExtraRoutes, path: string): Promise<{ status: number; body: any; handled: boolean }> {
  let status = 0;
  let text = '';
  const res = {
    writeHead(s: number) {
      status = s;
      return res;
    },
    setHeader() {
      return res;
    },
    end(b?: string) {
      text = b ?? '';
    },
  };
  const handled = await routes({ method: 'GET', url: path } as any, res as any, new URL(path, 'http://127.0.0.1'));
  return { status, body: text ? JSON.parse(text) : undefined, handled };
}
