#!/usr/bin/env bash
# Builds bindings/swift/EsrFFI.xcframework, the binary target of the Swift package, on macOS:
# the esr-ffi static library for iOS devices (arm64), the iOS simulator (arm64 and x86_64,
# merged with lipo) and, unless --ios-only, macOS (arm64 and x86_64, merged) so that
# `swift test` runs on a Mac. Each slice carries the generated C header and its module map
# (module esr_ffiFFI) under Headers/esr_ffiFFI/, where clang finds a module by its name and
# where it cannot collide with another XCFramework's module.modulemap in the same app.
#
# The header and module map are the committed ones (bindings/swift/Sources/EsrFFI/); the script
# first checks that they and the Swift sources match what the library just built generates.
#
# It then switches the repository's root Package.swift to the path form (set-binary-target.sh
# local), so the root package uses this XCFramework rather than a released one; `git diff
# Package.swift` shows the switch, and `git checkout Package.swift` undoes it. With
# --keep-manifest the root Package.swift is left as it is.
#
# Usage: bindings/swift/build-xcframework.sh [--debug] [--ios-only] [--keep-manifest]
# Needs: Xcode (xcodebuild, lipo), rustup with the targets listed below.
set -euo pipefail

die() {
  echo "build-xcframework: $*" >&2
  exit 1
}

profile=release
ios_only=false
keep_manifest=false
for arg in "$@"; do
  case "$arg" in
    --debug) profile=debug ;;
    --ios-only) ios_only=true ;;
    --keep-manifest) keep_manifest=true ;;
    -h | --help)
      sed -n '2,19p' "$0"
      exit 0
      ;;
    *) die "unknown argument '$arg' (usage: build-xcframework.sh [--debug] [--ios-only] [--keep-manifest])" ;;
  esac
done

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

[ "$(uname -s)" = Darwin ] ||
  die "an XCFramework is built on macOS with Xcode; on Linux, scripts/test-swift builds and tests the package against libesr_ffi.so"
for tool in cargo rustup xcodebuild lipo; do
  command -v "$tool" > /dev/null || die "'$tool' not found: install Xcode and rustup, then rerun"
done

ios_targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios)
macos_targets=(aarch64-apple-darwin x86_64-apple-darwin)
targets=("${ios_targets[@]}")
if ! $ios_only; then
  targets+=("${macos_targets[@]}")
fi

installed=$(rustup target list --installed)
missing=""
for t in "${targets[@]}"; do
  grep -qx "$t" <<< "$installed" || missing="$missing $t"
done
if [ -n "$missing" ]; then
  die "missing Rust targets; install them with: rustup target add$missing"
fi

# The package's platforms (Package.swift): iOS 15, macOS 12.
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

# (No empty arrays expanded under `set -u`: macOS's /bin/bash 3.2 calls them unbound.)
cargo_profile=release
if [ "$profile" = debug ]; then
  cargo_profile=dev
fi
for t in "${targets[@]}"; do
  echo "==> cargo build -p esr-ffi --target $t --profile $cargo_profile"
  cargo build -p esr-ffi --locked --target "$t" --profile "$cargo_profile"
done

target_dir=${CARGO_TARGET_DIR:-$root/target}
lib() { echo "$target_dir/$1/$profile/libesr_ffi.a"; }
for t in "${targets[@]}"; do
  [ -f "$(lib "$t")" ] || die "cargo did not produce $(lib "$t")"
done

stage="$target_dir/esr-xcframework"
rm -rf "$stage"
mkdir -p "$stage/generated" "$stage/headers/esr_ffiFFI" "$stage/ios-simulator" "$stage/macos"

echo "==> checking the committed Swift bindings against the library"
cargo run -q --locked -p uniffi-bindgen -- generate --no-format \
  --library "$(lib aarch64-apple-ios)" --language swift --out-dir "$stage/generated"
if ! cmp -s "$stage/generated/esr_ffi.swift" "$here/Sources/Esr/esr_ffi.swift" ||
  ! cmp -s "$stage/generated/esr_ffiFFI.h" "$here/Sources/EsrFFI/esr_ffiFFI.h" ||
  ! cmp -s "$stage/generated/esr_ffiFFI.modulemap" "$here/Sources/EsrFFI/module.modulemap"; then
  die "the committed bindings under bindings/swift/Sources/ are stale: run scripts/check-swift --write (Linux or macOS) and commit them"
fi
cp "$here/Sources/EsrFFI/esr_ffiFFI.h" "$here/Sources/EsrFFI/module.modulemap" \
  "$stage/headers/esr_ffiFFI/"

echo "==> lipo: one simulator library for arm64 and x86_64"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" \
  -output "$stage/ios-simulator/libesr_ffi.a"
xcargs=(
  -library "$(lib aarch64-apple-ios)" -headers "$stage/headers"
  -library "$stage/ios-simulator/libesr_ffi.a" -headers "$stage/headers"
)
if ! $ios_only; then
  echo "==> lipo: one macOS library for arm64 and x86_64"
  lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" \
    -output "$stage/macos/libesr_ffi.a"
  xcargs+=(-library "$stage/macos/libesr_ffi.a" -headers "$stage/headers")
fi

out="$here/EsrFFI.xcframework"
rm -rf "$out"
echo "==> xcodebuild -create-xcframework"
xcodebuild -create-xcframework "${xcargs[@]}" -output "$out"
echo "built $out"
if ! $keep_manifest; then
  "$here/set-binary-target.sh" local
fi
