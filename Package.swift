// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "Quarry",
  products: [
    .executable(name: "quarry", targets: ["quarry"]),
    .library(name: "Quarry", targets: ["Quarry"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
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
      ]),
    .executableTarget(name: "quarry-microbench", dependencies: ["Quarry"]),
    .testTarget(name: "QuarryTests", dependencies: ["Quarry"]),
    .testTarget(name: "QuarryCLITests", dependencies: ["quarry"]),
  ],
  swiftLanguageModes: [.v5]
)
