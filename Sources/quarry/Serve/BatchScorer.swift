import Dispatch
import Metrics
import Quarry
import Synchronization

/// Scores the texts of concurrent requests together. A request featurizes its own texts
/// (in its own task, so requests tokenize side by side), queues the features and waits.
/// Up to `--threads` workers, one thread each, take every queued request (up to
/// `maxTexts` texts, and always at least one request) and run the classifier once over
/// all their rows, so the batch kernels see many rows instead of one. An idle server
/// answers a lone request at once: nothing waits for a batch to fill, a batch is simply
/// whatever arrived while the workers were busy. A model with an encoder queues the texts instead, and the
/// worker encodes the whole batch (the encoder batches texts itself).
final class BatchScorer: Sendable {
  private struct Job {
    var texts: [String]
    /// The texts' features, or nil for a model with an encoder.
    var features: FeatureMatrix?
    var model: ServedModel
    var done: CheckedContinuation<[Float], Error>
  }

  private struct Queue {
    var jobs: [Job] = []
    /// Workers draining the queue now, at most `workers`.
    var working = 0
  }

  private let queue = Mutex(Queue())
  private let pool = DispatchQueue(label: "quarry.serve.batch", attributes: .concurrent)
  /// Batches scored at once, each on one thread: as many as `--threads`.
  private let workers: Int
  private let maxTexts: Int
  private let batchTexts = Recorder(label: "quarry_batch_texts")
  private let batchRequests = Recorder(label: "quarry_batch_requests")

  init(threads: Int, maxTexts: Int) {
    self.workers = max(1, threads)
    self.maxTexts = maxTexts
  }

  /// Row-major `texts.count` × C probabilities under `model`.
  func probabilities(_ texts: [String], model: ServedModel) async throws -> [Float] {
    let features =
      model.encoder == nil ? Predictor(model: model.model, threads: 1).featurize(texts) : nil
    return try await withCheckedThrowingContinuation { done in
      let start = queue.withLock { q -> Bool in
        q.jobs.append(Job(texts: texts, features: features, model: model, done: done))
        if q.working == workers { return false }
        q.working += 1
        return true
      }
      if start { pool.async { self.drain() } }
    }
  }

  /// Scores batches until the queue is empty, then retires the worker (under the same lock
  /// that queues a job, so a job is never left waiting with no worker).
  private func drain() {
    while true {
      let batch = queue.withLock { q -> [Job] in
        guard !q.jobs.isEmpty else {
          q.working -= 1
          return []
        }
        // Jobs on one model, in arrival order, up to maxTexts texts (at least one job).
        let model = ObjectIdentifier(q.jobs[0].model)
        var taken = 0
        var texts = 0
        while taken < q.jobs.count, ObjectIdentifier(q.jobs[taken].model) == model,
          taken == 0 || texts + q.jobs[taken].texts.count <= maxTexts
        {
          texts += q.jobs[taken].texts.count
          taken += 1
        }
        let batch = Array(q.jobs.prefix(taken))
        q.jobs.removeFirst(taken)
        return batch
      }
      guard let first = batch.first else { return }
      score(batch, model: first.model)
    }
  }

  private func score(_ batch: [Job], model: ServedModel) {
    batchTexts.record(batch.reduce(0) { $0 + $1.texts.count })
    batchRequests.record(batch.count)
    let c = model.model.classifier.classes
    do {
      let p: [Float]
      if model.encoder == nil {
        var m = FeatureMatrix()
        for job in batch { m.append(contentsOf: job.features ?? FeatureMatrix()) }
        p = model.model.classifier.probabilities(m, threads: 1)
      } else {
        let predictor = Predictor(model: model.model, threads: 1, encoder: model.encoder)
        p = try predictor.probabilities(batch.flatMap(\.texts))
      }
      var start = 0
      for job in batch {
        let end = start + job.texts.count * c
        job.done.resume(returning: Array(p[start..<end]))
        start = end
      }
    } catch {
      for job in batch { job.done.resume(throwing: error) }
    }
  }
}
