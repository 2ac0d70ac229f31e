#!/usr/bin/env bash
# Sets where the repository's root Package.swift takes EsrFFI.xcframework from on Apple
# platforms: the block between "// BEGIN binary target" and "// END binary target".
#
#   set-binary-target.sh local                  the path form: bindings/swift/EsrFFI.xcframework,
#                                               built by build-xcframework.sh (which runs this)
#   set-binary-target.sh release URL CHECKSUM   the URL form: a zip already attached to a
#                                               published GitHub release, and its
#                                               `swift package compute-checksum`
#   set-binary-target.sh check                  fails unless the block is one of the two forms
#
# Runs on macOS (bash 3.2, BSD tools) and Linux.
set -euo pipefail

manifest="$(cd "$(dirname "$0")/../.." && pwd)/Package.swift"

die() {
  echo "set-binary-target: $*" >&2
  exit 1
}

[ -f "$manifest" ] || die "no $manifest"
begin="// BEGIN binary target"
end="// END binary target"
[ "$(grep -cx "$begin" "$manifest")" = 1 ] && [ "$(grep -cx "$end" "$manifest")" = 1 ] ||
  die "$manifest must hold exactly one '$begin' ... '$end' block"

block() { sed -n "\\|^$begin\$|,\\|^$end\$|p" "$1"; }

# Writes the block into a copy, checks the copy, and only then replaces the manifest.
tmp=""
trap 'rm -f "$tmp"' EXIT
write() { # useLocal URL CHECKSUM
  tmp=$(mktemp)
  awk -v b="$begin" -v e="$end" -v local_="$1" -v url="$2" -v sum="$3" '
    $0 == b { print; print "let useLocalXCFramework = " local_;
              print "let xcframeworkURL = \"" url "\"";
              print "let xcframeworkChecksum = \"" sum "\""; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }
  ' "$manifest" > "$tmp"
  check "$tmp" > /dev/null
  cat "$tmp" > "$manifest"
}

check() { # FILE
  local b
  b=$(block "$1")
  local_form=$(printf '%s\n%s\n%s\n%s\n%s' "$begin" 'let useLocalXCFramework = true' \
    'let xcframeworkURL = ""' 'let xcframeworkChecksum = ""' "$end")
  if [ "$b" = "$local_form" ]; then
    echo "root Package.swift: path form (bindings/swift/EsrFFI.xcframework)"
    return
  fi
  printf '%s\n' "$b" | grep -qx 'let useLocalXCFramework = false' &&
    printf '%s\n' "$b" | grep -qE '^let xcframeworkURL = "https://github\.com/[^/"]+/[^/"]+/releases/download/[^/"]+/EsrFFI\.xcframework\.zip"$' &&
    printf '%s\n' "$b" | grep -qE '^let xcframeworkChecksum = "[0-9a-f]{64}"$' &&
    [ "$(printf '%s\n' "$b" | wc -l | tr -d ' ')" = 5 ] ||
    die "the block would be neither the path form nor a release URL with a checksum:
$b"
  echo "root Package.swift: release form ($(printf '%s\n' "$b" | sed -n 's/^let xcframeworkURL = "\(.*\)"$/\1/p'))"
}

case "${1:-}" in
  local)
    [ $# = 1 ] || die "usage: set-binary-target.sh local"
    write true "" ""
    ;;
  release)
    [ $# = 3 ] || die "usage: set-binary-target.sh release URL CHECKSUM"
    write false "$2" "$3"
    ;;
  check)
    [ $# = 1 ] || die "usage: set-binary-target.sh check"
    ;;
  *) die "usage: set-binary-target.sh local | release URL CHECKSUM | check" ;;
esac
check "$manifest"
