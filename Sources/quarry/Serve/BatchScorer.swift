import Dispatch
import Metrics
import Quarry
import Synchronization

/// Scores the texts of concurrent requests together. A request queues its texts and waits;
/// one worker at a time takes every queued request (up to `maxTexts` texts, and always at
/// least one request) and scores them in one call, so the batch kernels see many rows
/// instead of one. An idle server answers a lone request at once: nothing waits for a
/// batch to fill, a batch is simply whatever arrived while the previous one was scored.
final class BatchScorer: Sendable {
  private struct Job {
    var texts: [String]
    var model: ServedModel
    var done: CheckedContinuation<[Float], Error>
  }

  private struct Queue {
    var jobs: [Job] = []
    var working = false
  }

  private let queue = Mutex(Queue())
  private let worker = DispatchQueue(label: "quarry.serve.batch")
  private let threads: Int
  private let maxTexts: Int
  private let batchTexts = Recorder(label: "quarry_batch_texts")
  private let batchRequests = Recorder(label: "quarry_batch_requests")

  init(threads: Int, maxTexts: Int) {
    self.threads = threads
    self.maxTexts = maxTexts
  }

  /// Row-major `texts.count` × C probabilities under `model`.
  func probabilities(_ texts: [String], model: ServedModel) async throws -> [Float] {
    try await withCheckedThrowingContinuation { done in
      let start = queue.withLock { q -> Bool in
        q.jobs.append(Job(texts: texts, model: model, done: done))
        if q.working { return false }
        q.working = true
        return true
      }
      if start { worker.async { self.drain() } }
    }
  }

  /// Scores batches until the queue is empty, then marks the worker idle (under the same
  /// lock that queues a job, so a job is never left waiting with no worker).
  private func drain() {
    while true {
      let batch = queue.withLock { q -> [Job] in
        guard !q.jobs.isEmpty else {
          q.working = false
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
    let texts = batch.flatMap(\.texts)
    batchTexts.record(texts.count)
    batchRequests.record(batch.count)
    let c = model.model.classifier.classes
    do {
      let p = try Predictor(model: model.model, threads: threads, encoder: model.encoder)
        .probabilities(
          texts)
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
