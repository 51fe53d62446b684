// Kept in step with package.json by hand (no build step generates it).
export const PACKAGE_NAME = '@spendtrace/instrumentation';
export const PACKAGE_VERSION = '0.1.0';
