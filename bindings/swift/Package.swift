// swift-tools-version:5.9
// The Swift package of esr: the uniffi-generated bindings (Sources/Esr/esr_ffi.swift) over the
// esr-ffi library. On Apple platforms that is the static library shipped as
// EsrFFI.xcframework (built by build-xcframework.sh); on Linux it is the shared library
// libesr_ffi.so that `cargo build -p esr-ffi` makes, found with `-Xlinker -L<its directory>`
// (scripts/test-swift passes it). The repository's root Package.swift is the same package for
// apps that add it by URL.
import PackageDescription

#if os(Linux)
// The committed header and module map (module esr_ffiFFI, which esr_ffi.swift imports) as a
// system library; Esr links libesr_ffi itself.
let ffi: Target = .systemLibrary(name: "EsrFFI", path: "Sources/EsrFFI")
let ffiLinking: [LinkerSetting] = [.linkedLibrary("esr_ffi")]
#else
// The Rust library for iOS devices, the iOS simulator and macOS, with the C header and module
// map (module esr_ffiFFI) that the generated Swift imports. chrono's time-zone lookup
// (iana-time-zone) calls CoreFoundation.
let ffi: Target = .binaryTarget(name: "EsrFFI", path: "EsrFFI.xcframework")
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
            path: "Sources/Esr",
            linkerSettings: ffiLinking
        ),
        .testTarget(
            name: "EsrTests",
            dependencies: ["Esr"],
            path: "Tests/EsrTests"
        ),
    ]
)
