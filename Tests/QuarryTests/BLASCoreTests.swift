import XCTest

@testable import Quarry

/// The note about OpenBLAS's generic kernels: given only on a generic core, on a CPU with
/// wider vectors, with OPENBLAS_CORETYPE unset.
final class BLASCoreTests: XCTestCase {
  let avx512: Set<String> = ["sse3", "avx", "avx2", "fma", "avx512f", "avx512bw"]
  let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]

  func testGenericCoreOnAVX512SuggestsSkylakeX() throws {
    let a = try XCTUnwrap(
      BLASCore.fallbackAdvice(coreName: "Prescott", cpuFlags: avx512, environment: [:]))
    XCTAssertTrue(a.contains("OPENBLAS_CORETYPE=SkylakeX"), a)
    XCTAssertTrue(a.contains("Prescott"), a)
  }

  func testGenericCoreOnAVX2SuggestsHaswell() throws {
    let a = try XCTUnwrap(
      BLASCore.fallbackAdvice(coreName: "Prescott", cpuFlags: avx2, environment: [:]))
    XCTAssertTrue(a.contains("OPENBLAS_CORETYPE=Haswell"), a)
  }

  func testNoAdviceWhenTheCoreIsKnownSetOrTheCPUIsOld() {
    XCTAssertNil(BLASCore.fallbackAdvice(coreName: "Haswell", cpuFlags: avx512, environment: [:]))
    XCTAssertNil(BLASCore.fallbackAdvice(coreName: "Zen", cpuFlags: avx2, environment: [:]))
    XCTAssertNil(
      BLASCore.fallbackAdvice(
        coreName: "Prescott", cpuFlags: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"]))
    XCTAssertNil(
      BLASCore.fallbackAdvice(coreName: "Prescott", cpuFlags: ["sse3", "avx"], environment: [:]))
  }

  func testThisProcessNamesItsCore() {
    XCTAssertFalse(BLASCore.name.isEmpty)
  }
}
