// swift-tools-version:5.9
// The Swift package of esr: the uniffi-generated bindings (Sources/Esr/esr_ffi.swift) over the
// esr-ffi static library, shipped as EsrFFI.xcframework (built by build-xcframework.sh).
import PackageDescription

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
        // The Rust library for iOS devices, the iOS simulator and macOS, with the C header and
        // module map (module esr_ffiFFI) that the generated Swift imports.
        .binaryTarget(name: "EsrFFI", path: "EsrFFI.xcframework"),
        .target(
            name: "Esr",
            dependencies: ["EsrFFI"],
            path: "Sources/Esr",
            // chrono's time-zone lookup (iana-time-zone) calls CoreFoundation.
            linkerSettings: [.linkedFramework("CoreFoundation")]
        ),
        .testTarget(
            name: "EsrTests",
            dependencies: ["Esr"],
            path: "Tests/EsrTests"
        ),
    ]
)
