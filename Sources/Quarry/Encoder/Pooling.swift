/// How an encoder's token vectors h_1 … h_T become one vector per text.
public enum Pooling: String, Codable, Sendable, CaseIterable {
  /// (1/T) Σ_t h_t over the real tokens (padding excluded).
  case mean
  /// h_1, the [CLS] token's vector.
  case cls
}
