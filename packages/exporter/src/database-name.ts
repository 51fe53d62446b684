/**
 * The names spendtrace writes into SQL, defined once: the default database and the identifier rule
 * every database, table and column name given by configuration must meet (it is put into SQL
 * text unquoted, so nothing else may pass).
 */

/** The database holding spendtrace's tables unless configured otherwise. */
export const DEFAULT_DATABASE = 'spendtrace';

/** A ClickHouse identifier that needs no quoting: letters, digits and _, not starting with a digit. */
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
