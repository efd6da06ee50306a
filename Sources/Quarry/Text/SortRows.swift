/// Sorts rows in place: insertion sort below 24 elements, otherwise quicksort with a
/// median-of-three pivot. Feature rows of one document (a few hundred Int32s) are sorted
/// for every document featurized; the standard library's stable merge sort spent about 5%
/// of an R8 finetune there. O(n log n) expected, O(n²) worst case on adversarial input.
func sortRows(_ a: UnsafeMutableBufferPointer<Int32>) {
  guard a.count > 1 else { return }
  quicksort(a.base, 0, a.count - 1)
}

private func quicksort(_ a: UnsafeMutablePointer<Int32>, _ lo0: Int, _ hi0: Int) {
  var lo = lo0
  var hi = hi0
  while hi - lo >= 24 {
    let mid = lo + (hi - lo) / 2
    if a[mid] < a[lo] { a.swapAt(mid, lo) }
    if a[hi] < a[lo] { a.swapAt(hi, lo) }
    if a[hi] < a[mid] { a.swapAt(hi, mid) }
    let pivot = a[mid]
    var i = lo
    var j = hi
    while i <= j {
      while a[i] < pivot { i += 1 }
      while a[j] > pivot { j -= 1 }
      if i <= j {
        a.swapAt(i, j)
        i += 1
        j -= 1
      }
    }
    // Recurse into the smaller side, loop on the larger: O(log n) stack.
    if j - lo < hi - i {
      quicksort(a, lo, j)
      lo = i
    } else {
      quicksort(a, i, hi)
      hi = j
    }
  }
  if hi > lo {
    for k in (lo + 1)...hi {
      let v = a[k]
      var m = k - 1
      while m >= lo && a[m] > v {
        a[m + 1] = a[m]
        m -= 1
      }
      a[m + 1] = v
    }
  }
}

extension UnsafeMutablePointer where Pointee == Int32 {
  @inline(__always) fileprivate func swapAt(_ i: Int, _ j: Int) {
    let t = self[i]
    self[i] = self[j]
    self[j] = t
  }
}
