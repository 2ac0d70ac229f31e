// swift-tools-version:5.9
// esr for Swift, for apps that add the package by URL (Xcode: File > Add Package Dependencies,
// or `.package(url: "https://github.com/<owner>/esr", from: "<version>")` and the product
// "Esr"). It is the package in bindings/swift (its README says what each file is), with the
// Rust library for Apple platforms fetched from the GitHub release that published it.
import PackageDescription

// Where Apple platforms get EsrFFI.xcframework. Written by tools, not by hand
// (bindings/swift/set-binary-target.sh):
// - the release workflow (.github/workflows/swift-release.yml) first publishes the zipped
//   XCFramework on a GitHub release, then sets `xcframeworkURL` and `xcframeworkChecksum` to
//   it and `useLocalXCFramework` to false, so a committed URL always names a published binary;
// - bindings/swift/build-xcframework.sh sets `useLocalXCFramework` back to true, so a clone
//   uses the XCFramework it has just built in bindings/swift/ (the path form). Until the first
//   release the path form is the committed one: build the XCFramework before building this.
// BEGIN binary target
let useLocalXCFramework = true
let xcframeworkURL = ""
let xcframeworkChecksum = ""
// END binary target

#if os(Linux)
// Linux: the committed header and module map (module esr_ffiFFI) as a system library; Esr links
// libesr_ffi.so (`cargo build -p esr-ffi`), found with `-Xlinker -L<its directory>`.
let ffi: Target = .systemLibrary(name: "EsrFFI", path: "bindings/swift/Sources/EsrFFI")
let ffiLinking: [LinkerSetting] = [.linkedLibrary("esr_ffi")]
#else
// The Rust library for iOS devices, the iOS simulator and macOS, with the C header and module
// map (module esr_ffiFFI) that the generated Swift imports. chrono's time-zone lookup
// (iana-time-zone) calls CoreFoundation.
let ffi: Target =
    useLocalXCFramework
    ? .binaryTarget(name: "EsrFFI", path: "bindings/swift/EsrFFI.xcframework")
    : .binaryTarget(name: "EsrFFI", url: xcframeworkURL, checksum: xcframeworkChecksum)
let ffiLinking: [LinkerSetting] = [.linkedFramework("CoreFoundation")]
#endif

let package = Package(
    name: "Esr",
    platforms: [
        .iOS(.v15),
        .macOS(.v12),
    ],
    products: [
        .library(name: "Esr", targets: ["Esr"]),
    ],
    targets: [
        ffi,
        .target(
            name: "Esr",
            dependencies: ["EsrFFI"],
            path: "bindings/swift/Sources/Esr",
            linkerSettings: ffiLinking
        ),
        .testTarget(
            name: "EsrTests",
            dependencies: ["Esr"],
            path: "bindings/swift/Tests/EsrTests"
        ),
    ]
)
