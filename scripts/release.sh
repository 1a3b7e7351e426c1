#!/usr/bin/env bash
# release.sh: build the release binary dist/vigil-<version>-linux-x64 (version from package.json,
# git commit embedded by scripts/build.ts) and dist/SHA256SUMS for it, which `sha256sum -c` verifies
# from inside dist/. Running it again rebuilds both from the current tree; nothing else in dist/ is
# touched. Prints what it made.
#
#   scripts/release.sh
#   VIGIL_COMMIT=0123456789ab scripts/release.sh     # name the commit when there is no git checkout
#
# Needs bun (node_modules/.bin after `npm ci`, or on PATH) and sha256sum. The binary is built for the
# machine it is built on, so this runs on Linux x86-64 only.

set -euo pipefail

REPO_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"

die() { printf 'release: %s\n' "$*" >&2; exit 1; }

[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] || die "builds linux-x64 binaries on a Linux x86-64 machine only (this is $(uname -s) $(uname -m))"
command -v bun >/dev/null || die "bun not found: run \`npm ci\` first"
command -v sha256sum >/dev/null || die "sha256sum not found (package coreutils)"

version=$(bun -e 'console.log(require("./package.json").version)')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || die "package.json version \"$version\" is not a semantic version"

name=vigil-$version-linux-x64
mkdir -p dist
bun scripts/build.ts "dist/$name" >/dev/null

# The binary must run and report the version it was named after.
reported=$("dist/$name" version)
[[ $reported == "vigil $version "* ]] || die "dist/$name reports \"$reported\", expected version $version"

(cd dist && sha256sum "$name" >SHA256SUMS && sha256sum -c --quiet SHA256SUMS)

printf 'made dist/%s (%s bytes): %s\n' "$name" "$(stat -c %s "dist/$name")" "$reported"
printf 'made dist/SHA256SUMS:\n'
sed 's/^/  /' dist/SHA256SUMS
