/// An aligned address to stand for the start of an empty buffer: with a count of zero
/// nothing reads it, and kernels need no optional pointers.
private let emptyBufferAddress = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)

extension UnsafeBufferPointer {
  /// `baseAddress`, or a never-read stand-in when the buffer is empty.
  @inline(__always) public var base: UnsafePointer<Element> {
    baseAddress ?? UnsafePointer(OpaquePointer(emptyBufferAddress))
  }
}

extension UnsafeMutableBufferPointer {
  /// `baseAddress`, or a never-read stand-in when the buffer is empty.
  @inline(__always) public var base: UnsafeMutablePointer<Element> {
    baseAddress ?? UnsafeMutablePointer(OpaquePointer(emptyBufferAddress))
  }
}
