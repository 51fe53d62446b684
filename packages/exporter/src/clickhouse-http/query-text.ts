/**
 * What the ClickHouse HTTP interface needs to know about a query's text before running it: its
 * FORMAT clause, whether it is one statement, whether it writes a file (INTO OUTFILE, which the
 * engine's read-only mode does not stop). A small lexer blanks out string literals, quoted
 * identifiers and comments first, so `'a; b'` or `-- INTO OUTFILE` never count.
 */

/** The text with literals, quoted identifiers and comments replaced by spaces (same length). */
export function codeOnly(sql: string): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '\\') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      out += ' '.repeat(Math.min(j + 1, n) - i);
      i = j + 1;
    } else if ((c === '-' && next === '-') || c === '#') {
      let j = i;
      while (j < n && sql[j] !== '\n') j++;
      out += ' '.repeat(j - i);
      i = j;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth--;
          j += 2;
        } else j++;
      }
      out += ' '.repeat(Math.min(j, n) - i);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export interface QueryShape {
  /** The format named by the query's own FORMAT clause, if any. */
  format: string | undefined;
  /** More than one statement (ClickHouse's HTTP interface runs one). */
  multiStatement: boolean;
  /** SELECT … INTO OUTFILE: writes a file on the server. */
  intoOutfile: boolean;
  empty: boolean;
}

export function shapeOf(sql: string): QueryShape {
  const code = codeOnly(sql);
  const statements = code.split(';').filter((s) => s.trim() !== '');
  let format: string | undefined;
  for (const m of code.matchAll(/\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\b(?!\s*\()/gi)) format = m[1];
  return { format, multiStatement: statements.length > 1, intoOutfile: /\bINTO\s+OUTFILE\b/i.test(code), empty: statements.length === 0 };
}
