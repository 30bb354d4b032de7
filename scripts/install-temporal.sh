#!/usr/bin/env bash
# Finds, or builds, the Temporal CLI whose `server start-dev` runs the local Temporal server.
#
# Search order (runtime/temporal-cli.ts uses the same one):
#   1. $TEMPORAL_CLI_PATH, if it is an executable file
#   2. <repo>/.tools/bin/temporal            (project-local, git-ignored; built here)
#   3. `temporal` on $PATH
#   4. build it with Go into <repo>/.tools/bin (Go is looked for on $PATH and at /usr/local/go/bin)
#   5. no Go: print a notice and exit 0 — the Temporal SDK's own download (needs internet) is used.
#
# The resolved path is printed on the last line of stdout; progress goes to stderr. Quiet and fast
# when the CLI is already there. Safe to run concurrently (npm postinstall + `dev` + CI): builds are
# serialised by a lock and land in .tools/bin with an atomic rename.
set -euo pipefail

CLI_MODULE="github.com/temporalio/cli/cmd/temporal"
CLI_VERSION="${TEMPORAL_CLI_VERSION:-v1.5.1}"
# Retried with this toolchain when the local Go fails to build the CLI (e.g. a Go release newer than
# the CLI's dependencies support); Go fetches the toolchain through the module proxy.
FALLBACK_TOOLCHAIN="go1.25.5"

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
TOOLS_DIR="$ROOT/.tools"
TOOLS_BIN="$TOOLS_DIR/bin"
LOCAL_CLI="$TOOLS_BIN/temporal"

say() { echo "install-temporal: $*" >&2; }
is_exec() { [ -n "$1" ] && [ -f "$1" ] && [ -x "$1" ]; }
found() {
  echo "$1"
  exit 0
}

if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  if is_exec "$TEMPORAL_CLI_PATH"; then found "$TEMPORAL_CLI_PATH"; fi
  say "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file; looking elsewhere"
fi
if is_exec "$LOCAL_CLI"; then found "$LOCAL_CLI"; fi
if on_path="$(command -v temporal 2>/dev/null)" && is_exec "$on_path"; then found "$on_path"; fi

GO="$(command -v go 2>/dev/null || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
if [ -z "$GO" ]; then
  echo "install-temporal: no Temporal CLI and no Go toolchain; the Temporal SDK will download its dev server at run time (needs internet). Install Go or set TEMPORAL_CLI_PATH to avoid that."
  exit 0
fi

mkdir -p "$TOOLS_BIN"
# Serialise concurrent runs; the second one finds the first one's result after the lock.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS_DIR/.install-temporal.lock"
  if ! flock -n 9; then
    say "another install is building the Temporal CLI; waiting for it"
    flock 9
  fi
  if is_exec "$LOCAL_CLI"; then found "$LOCAL_CLI"; fi
fi

BUILD_DIR="$(mktemp -d "$TOOLS_DIR/build.XXXXXX")"
trap 'rm -rf "$BUILD_DIR"' EXIT

build() {
  # Run outside the repo so no go.mod / go.work around it can interfere.
  (cd "$BUILD_DIR" && GOBIN="$BUILD_DIR" "$@" "$GO" install "$CLI_MODULE@$CLI_VERSION")
}

say "building Temporal CLI $CLI_VERSION with $("$GO" env GOVERSION 2>/dev/null || echo go) (first time only; a few minutes)"
started=$SECONDS
if ! build env; then
  say "build failed; retrying with GOTOOLCHAIN=$FALLBACK_TOOLCHAIN"
  if ! build env GOTOOLCHAIN="$FALLBACK_TOOLCHAIN"; then
    say "could not build the Temporal CLI. Set TEMPORAL_CLI_PATH to an existing 'temporal' binary."
    exit 1
  fi
fi
if ! is_exec "$BUILD_DIR/temporal"; then
  say "go install succeeded but produced no binary in $BUILD_DIR"
  exit 1
fi
mv -f "$BUILD_DIR/temporal" "$LOCAL_CLI"
say "built $LOCAL_CLI in $((SECONDS - started))s"
found "$LOCAL_CLI"
