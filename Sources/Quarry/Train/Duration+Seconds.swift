extension Duration {
  /// The duration in seconds, as a Double (attoseconds kept to their 1e-18 scale).
  public var seconds: Double {
    let (s, atto) = components
    return Double(s) + Double(atto) * 1e-18
  }
}
