import Foundation

/// Softmax in place over each row of a B×C buffer: p_c = exp(z_c − max z) / Σ exp(z − max z).
public func softmaxRows(_ z: UnsafeMutablePointer<Float>, batch: Int, classes: Int) {
  for i in 0..<batch {
    let r = z + i * classes
    var m = r[0]
    for c in 1..<classes where r[c] > m { m = r[c] }
    var s: Float = 0
    for c in 0..<classes {
      r[c] = expf(r[c] - m)
      s += r[c]
    }
    let inv = 1 / s
    for c in 0..<classes { r[c] *= inv }
  }
}

/// σ(z) = 1 / (1 + e^(−z)) in place over `count` values (written to avoid overflow: for
/// z < 0, e^z / (1 + e^z)).
public func sigmoidInPlace(_ z: UnsafeMutablePointer<Float>, count: Int) {
  for i in 0..<count {
    let x = z[i]
    if x >= 0 {
      z[i] = 1 / (1 + expf(-x))
    } else {
      let e = expf(x)
      z[i] = e / (1 + e)
    }
  }
}

/// Weighted binary focal loss over every class of a multi-label batch (Lin et al. 2017,
/// in its original one-vs-rest form), from the logits `z` (B×C) and 0/1 `targets` (B×C):
///   L = Σ_i w_i Σ_c α_{i,c} · −(1 − p_t)^γ · ln p_t,
///   p_t = σ(s·z_{i,c}),  s = +1 where t_{i,c} = 1 and −1 where it is 0,
/// with α_{i,c} = `positiveWeight[c]` for a present class and 1 for an absent one. Its
/// gradient with respect to the logits,
///   ∂L/∂z_{i,c} = w_i α_{i,c} · s · [γ p_t (1 − p_t)^γ ln p_t − (1 − p_t)^(γ+1)],
/// is written into `dLogits` (which may alias `z`); γ = 0 gives binary cross-entropy,
/// whose gradient is w_i α_{i,c} (σ(z_{i,c}) − t_{i,c}). ln p_t = −softplus(−s·z), exact
/// for large |z|. Returns L.
public func sigmoidFocalForwardBackward(
  logits z: UnsafePointer<Float>, targets: UnsafePointer<Float>, weights: UnsafePointer<Float>,
  positiveWeight: UnsafePointer<Float>, gamma: Float, batch: Int, classes: Int,
  dLogits: UnsafeMutablePointer<Float>
) -> Float {
  var loss: Float = 0
  for i in 0..<batch {
    let w = weights[i]
    for c in 0..<classes {
      let k = i * classes + c
      let present = targets[k] > 0.5
      let s: Float = present ? 1 : -1
      let a = s * z[k]
      // ln σ(a) = −softplus(−a) = −(max(−a, 0) + ln(1 + e^(−|a|)))
      let logpt = -(max(-a, 0) + log1pf(expf(-abs(a))))
      let pt = expf(logpt)
      let q = max(1 - pt, 0)
      let alpha = present ? positiveWeight[c] : 1
      let qg = gamma == 0 ? 1 : powf(q, gamma)
      loss -= w * alpha * qg * logpt
      dLogits[k] = w * alpha * s * (gamma * pt * qg * logpt - qg * q)
    }
  }
  return loss
}

/// Weighted softmax cross-entropy summed over a batch, given the probabilities `p` (B×C):
///   L = Σ_i w_i · (−ln p_{i,y_i}),
/// and its gradient with respect to the logits, written into `dLogits` (B×C):
///   ∂L/∂z_{i,c} = w_i · (p_{i,c} − [c = y_i]).
/// A sum, not a mean: the learning rate is per example, as in fastText, whatever the
/// batch size. Returns L. Probabilities are clamped at 1e-12 inside the log.
public func crossEntropyForwardBackward(
  probs p: UnsafePointer<Float>, labels: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
  batch: Int, classes: Int, dLogits: UnsafeMutablePointer<Float>
) -> Float {
  var loss: Float = 0
  for i in 0..<batch {
    let y = Int(labels[i])
    let w = weights[i]
    loss -= w * logf(max(p[i * classes + y], 1e-12))
    for c in 0..<classes {
      dLogits[i * classes + c] = w * (p[i * classes + c] - (c == y ? 1 : 0))
    }
  }
  return loss
}

/// Weighted focal loss summed over a batch (Lin et al. 2017), given probabilities `p`:
///   L = Σ_i w_i · −(1 − p_t)^γ · ln p_t,   p_t = p_{i,y_i},
/// with w_i carrying α_t (class weight). Its gradient with respect to the logits,
///   ∂L/∂z_{i,c} = w_i · [γ(1 − p_t)^(γ−1) · p_t · ln p_t − (1 − p_t)^γ] · ([c = y_i] − p_{i,c}),
/// is written into `dLogits` (which may alias `p`). With γ = 0 both equal cross-entropy.
public func focalForwardBackward(
  probs p: UnsafePointer<Float>, labels: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
  gamma: Float, batch: Int, classes: Int, dLogits: UnsafeMutablePointer<Float>
) -> Float {
  var loss: Float = 0
  for i in 0..<batch {
    let y = Int(labels[i])
    let w = weights[i]
    let pt = max(p[i * classes + y], 1e-12)
    let q = max(1 - pt, 0)
    let logp = logf(pt)
    let qg = gamma == 0 ? 1 : powf(q, gamma)
    loss -= w * qg * logp
    // (1 − p_t)^(γ−1) blows up at p_t = 1 when γ < 1, but γ·q^(γ−1)·p_t·ln p_t → 0 there:
    // take the limit instead of ∞ · 0.
    let qg1 = gamma == 0 || q < 1e-12 ? 0 : (gamma == 1 ? 1 : powf(q, gamma - 1))
    let coef = w * (gamma * qg1 * pt * logp - qg)
    for c in 0..<classes {
      let pc = p[i * classes + c]
      dLogits[i * classes + c] = coef * ((c == y ? 1 : 0) - pc)
    }
  }
  return loss
}

/// Per-row factors that rescale the focal gradient of a batch (treated as constants):
///   s_i = min(N, 1 / (1 − p_t,i)^γ),   N = Σ_i w_i / Σ_i w_i (1 − p_t,i)^γ.
/// The effective weight of row i becomes w_i · min(N (1 − p_t,i)^γ, 1): the batch's focal
/// weights are scaled up to the total of cross-entropy's (as RetinaNet normalizes its focal
/// loss), but no row above its cross-entropy weight. Unnormalized, γ = 2 left the mined
/// variants almost no step, and the augmentation's gain with it; normalized without the
/// cap, the few hard rows of a well-fit corpus took the whole batch's step (R8 macro-F1
/// fell from 0.945 to 0.871). With γ = 0 every factor is 1.
public func focalRowScales(
  probs p: UnsafePointer<Float>, labels: UnsafePointer<Int32>, weights: UnsafePointer<Float>,
  gamma: Float, batch: Int, classes: Int, into scales: UnsafeMutablePointer<Float>
) {
  var total: Float = 0
  var focal: Float = 0
  for i in 0..<batch {
    let q = max(1 - p[i * classes + Int(labels[i])], 0)
    let qg = gamma == 0 ? 1 : powf(q, gamma)
    scales[i] = qg
    total += weights[i]
    focal += weights[i] * qg
  }
  let n: Float = focal > 1e-12 * max(total, 1e-12) ? total / focal : 1
  for i in 0..<batch {
    scales[i] = gamma == 0 ? 1 : min(n, 1 / max(scales[i], 1e-12))
  }
}
