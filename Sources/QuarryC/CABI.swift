import Foundation
import Quarry

// The C ABI of libQuarryC, for ctypes, cffi or C. As C declarations:
//
//   void *quarry_model_load(const char *path, char **error);
//   void quarry_model_free(void *model);
//   int32_t quarry_model_classes(const void *model);              // -1 for NULL
//   const char *quarry_model_label(const void *model, int32_t i); // NULL for NULL
//   int32_t quarry_predict(const void *model, const uint8_t *texts, const int64_t *offsets,
//                          int64_t n, int32_t k, int32_t threads,
//                          int32_t *labels, float *probabilities, char **error);
//   int32_t quarry_probabilities(const void *model, const uint8_t *texts,
//                                const int64_t *offsets, int64_t n, int32_t threads,
//                                float *probabilities, char **error);
//   void quarry_string_free(char *s);
//
// Functions that can fail return NULL or a nonzero code and, when `error` is not NULL, set
// `*error` to a message that the caller frees with `quarry_string_free`. No Swift error
// crosses this boundary. With n = 0 the predict functions read and write nothing (their
// pointers may be NULL) and return 0.

/// Sets `*error` to a copy of `message`, for the caller to free.
private func report(_ message: String, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?)
{
  error?.pointee = strdup(message)
}

private func handle(_ p: UnsafeRawPointer) -> ModelHandle {
  Unmanaged<ModelHandle>.fromOpaque(p).takeUnretainedValue()
}

/// Loads the model file at `path`: a handle, or NULL and `*error` naming the file and
/// what is wrong with it.
@_cdecl("quarry_model_load")
public func quarry_model_load(
  _ path: UnsafePointer<CChar>?, _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> UnsafeMutableRawPointer? {
  guard let path else {
    report("quarry_model_load: path is NULL", errorOut)
    return nil
  }
  do {
    return Unmanaged.passRetained(try ModelHandle(path: String(cString: path))).toOpaque()
  } catch {
    report("\(error)", errorOut)
    return nil
  }
}

/// Frees a handle of `quarry_model_load` (NULL is ignored).
@_cdecl("quarry_model_free")
public func quarry_model_free(_ model: UnsafeMutableRawPointer?) {
  guard let model else { return }
  Unmanaged<ModelHandle>.fromOpaque(model).release()
}

/// The number of classes C of a model; -1 for NULL.
@_cdecl("quarry_model_classes")
public func quarry_model_classes(_ model: UnsafeRawPointer?) -> Int32 {
  guard let model else { return -1 }
  return Int32(handle(model).classes)
}

/// Label `i` (0 ≤ i < C) as UTF-8, owned by the model; NULL when the model is NULL or `i`
/// is out of range.
@_cdecl("quarry_model_label")
public func quarry_model_label(_ model: UnsafeRawPointer?, _ i: Int32) -> UnsafePointer<CChar>? {
  guard let model else { return nil }
  let labels = handle(model).labels
  guard i >= 0, Int(i) < labels.count else { return nil }
  return UnsafePointer(labels[Int(i)])
}

/// The decision threshold of class `i` (0 ≤ i < C) of a multi-label model, in (0, 1): its
/// classes at or above it are its prediction (`quarry predict`). -1 for a single-label
/// model (its prediction is the arg-max), a NULL model or `i` out of range.
@_cdecl("quarry_model_threshold")
public func quarry_model_threshold(_ model: UnsafeRawPointer?, _ i: Int32) -> Float {
  guard let model, let t = handle(model).model.thresholds, i >= 0, Int(i) < t.count else {
    return -1
  }
  return t[Int(i)]
}

/// The k most probable labels of n texts, best first (ties: the lower label first), as
/// `quarry predict --k k` gives them: `labels` and `probabilities` are n×k, row-major, and
/// must have room for n·k entries. Text i is `texts[offsets[i] ..< offsets[i+1]]` (UTF-8;
/// `offsets` has n+1 entries). 1 ≤ k ≤ C. Returns 0, or 1 with `*error` set.
@_cdecl("quarry_predict")
public func quarry_predict(
  _ model: UnsafeRawPointer?, _ texts: UnsafePointer<UInt8>?, _ offsets: UnsafePointer<Int64>?,
  _ n: Int64, _ k: Int32, _ threads: Int32, _ labels: UnsafeMutablePointer<Int32>?,
  _ probabilities: UnsafeMutablePointer<Float>?,
  _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  do {
    guard n >= 0 else { throw CallError("quarry_predict: n is \(n), not ≥ 0") }
    if n == 0 { return 0 }
    guard let model, let offsets, let labels, let probabilities else {
      throw CallError("quarry_predict: model, offsets, labels and probabilities must not be NULL")
    }
    let h = handle(model)
    guard k >= 1, Int(k) <= h.classes else {
      throw CallError("quarry_predict: k must be between 1 and \(h.classes), got \(k)")
    }
    let predictor = Predictor(model: h.model, threads: Int(threads))
    let kk = Int(k)
    try h.forEachBlock(bytes: texts, offsets: offsets, count: Int(n)) { block, start in
      store(
        predictor.topK(try predictor.probabilities(block), k: kk), from: start, stride: kk,
        labels: labels, probabilities: probabilities)
    }
    return 0
  } catch {
    report("\(error)", errorOut)
    return 1
  }
}

/// A multi-label model's prediction of n texts (texts and offsets as in `quarry_predict`),
/// as `quarry predict` gives it: every label at or above its threshold (or at or above
/// `threshold` for all, when 0 < `threshold` < 1; pass 0 for the model's own), most
/// probable first (ties: the lower label first), at most k (1 ≤ k ≤ C; C for no cap).
/// Row i's labels are `labels[i·k ..< i·k + counts[i]]`, and the same of `probabilities`;
/// both must have room for n·k entries, `counts` for n. Returns 0, or 1 with `*error`.
@_cdecl("quarry_predict_sets")
public func quarry_predict_sets(
  _ model: UnsafeRawPointer?, _ texts: UnsafePointer<UInt8>?, _ offsets: UnsafePointer<Int64>?,
  _ n: Int64, _ k: Int32, _ threshold: Float, _ threads: Int32,
  _ counts: UnsafeMutablePointer<Int32>?, _ labels: UnsafeMutablePointer<Int32>?,
  _ probabilities: UnsafeMutablePointer<Float>?,
  _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  do {
    guard n >= 0 else { throw CallError("quarry_predict_sets: n is \(n), not ≥ 0") }
    if n == 0 { return 0 }
    guard let model, let offsets, let counts, let labels, let probabilities else {
      throw CallError(
        "quarry_predict_sets: model, offsets, counts, labels and probabilities must not be NULL")
    }
    let h = handle(model)
    guard let own = h.model.thresholds else {
      throw CallError("quarry_predict_sets: a single-label model: use quarry_predict")
    }
    guard k >= 1, Int(k) <= h.classes else {
      throw CallError("quarry_predict_sets: k must be between 1 and \(h.classes), got \(k)")
    }
    guard threshold == 0 || (threshold > 0 && threshold < 1) else {
      throw CallError("quarry_predict_sets: threshold must be 0 or in (0, 1), got \(threshold)")
    }
    let t = threshold == 0 ? own : [Float](repeating: threshold, count: h.classes)
    let predictor = Predictor(model: h.model, threads: Int(threads))
    let kk = Int(k)
    try h.forEachBlock(bytes: texts, offsets: offsets, count: Int(n)) { block, start in
      let sets = Predictor.aboveThresholds(
        try predictor.probabilities(block), thresholds: t, k: kk)
      for (j, set) in sets.enumerated() { counts[start + j] = Int32(set.count) }
      store(sets, from: start, stride: kk, labels: labels, probabilities: probabilities)
    }
    return 0
  } catch {
    report("\(error)", errorOut)
    return 1
  }
}

/// Row j of `rows` into row `start + j` of the n×`stride` outputs, from its first column.
private func store(
  _ rows: [[(label: Int, probability: Float)]], from start: Int, stride: Int,
  labels: UnsafeMutablePointer<Int32>, probabilities: UnsafeMutablePointer<Float>
) {
  for (j, row) in rows.enumerated() {
    for (r, entry) in row.enumerated() {
      labels[(start + j) * stride + r] = Int32(entry.label)
      probabilities[(start + j) * stride + r] = entry.probability
    }
  }
}

/// All C class probabilities of n texts (texts and offsets as in `quarry_predict`):
/// `probabilities` is n×C, row-major: each row sums to 1, or for a multi-label model
/// (`quarry_model_threshold` ≥ 0) holds each class's own probability. Returns 0, or 1 with `*error`.
@_cdecl("quarry_probabilities")
public func quarry_probabilities(
  _ model: UnsafeRawPointer?, _ texts: UnsafePointer<UInt8>?, _ offsets: UnsafePointer<Int64>?,
  _ n: Int64, _ threads: Int32, _ probabilities: UnsafeMutablePointer<Float>?,
  _ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  do {
    guard n >= 0 else { throw CallError("quarry_probabilities: n is \(n), not ≥ 0") }
    if n == 0 { return 0 }
    guard let model, let offsets, let probabilities else {
      throw CallError("quarry_probabilities: model, offsets and probabilities must not be NULL")
    }
    let h = handle(model)
    let predictor = Predictor(model: h.model, threads: Int(threads))
    let c = h.classes
    try h.forEachBlock(bytes: texts, offsets: offsets, count: Int(n)) { block, start in
      let p = try predictor.probabilities(block)
      for (j, q) in p.enumerated() { probabilities[start * c + j] = q }
    }
    return 0
  } catch {
    report("\(error)", errorOut)
    return 1
  }
}

/// Frees a message of this library (NULL is ignored).
@_cdecl("quarry_string_free")
public func quarry_string_free(_ s: UnsafeMutablePointer<CChar>?) {
  free(s)
}
