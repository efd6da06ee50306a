// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "Quarry",
  products: [
    .executable(name: "quarry", targets: ["quarry"]),
    .library(name: "Quarry", targets: ["Quarry"]),
    // The C ABI of Sources/QuarryC, for the Python package (python/) and other languages.
    .library(name: "QuarryC", type: .dynamic, targets: ["QuarryC"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
  ],
  targets: [
    .systemLibrary(
      name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .target(
      name: "Quarry", dependencies: ["COpenBLAS"],
      swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
    .executableTarget(
      name: "quarry",
      dependencies: [
        "Quarry", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ]),
    .target(
      name: "QuarryC", dependencies: ["Quarry"],
      swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
    .executableTarget(
      name: "quarry-microbench",
      dependencies: ["Quarry", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    .testTarget(name: "QuarryTests", dependencies: ["Quarry"]),
    .testTarget(name: "QuarryCLITests", dependencies: ["quarry"]),
  ],
  swiftLanguageModes: [.v5]
)
