import Foundation
import Hummingbird
import Metrics
import Prometheus

/// swift-metrics on a Prometheus registry, read at `GET /metrics` in the text format.
/// Metric and label names keep only Prometheus's characters: Hummingbird's
/// `http.server.request.duration` reads `http_server_request_duration`.
enum ServeMetrics {
  static func bootstrap() -> PrometheusCollectorRegistry {
    let registry = PrometheusCollectorRegistry()
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.defaultDurationHistogramBuckets = [
      .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
      .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]
    factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
    factory.nameAndLabelSanitizer = { name, labels in
      (promName(name), labels.map { (promName($0.0), $0.1) })
    }
    MetricsSystem.bootstrap(factory)
    return registry
  }

  /// `name` with every character outside [A-Za-z0-9_] replaced by "_".
  static func promName(_ name: String) -> String {
    String(
      String.UnicodeScalarView(
        name.unicodeScalars.map {
          $0.isASCII && ($0 == "_" || CharacterSet.alphanumerics.contains($0)) ? $0 : "_"
        }))
  }

  static func page(_ registry: PrometheusCollectorRegistry) -> Response {
    var bytes: [UInt8] = []
    registry.emit(into: &bytes)
    return Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
      body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
  }
}
