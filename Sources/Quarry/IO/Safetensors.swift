import Foundation

/// A safetensors file: 8 bytes little-endian header length N, N bytes of JSON mapping each
/// tensor name to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the
/// byte after the header), then the data. Every offset and length is checked against the
/// file and the shape before any data is read. Any dtype of a known width is accepted in the
/// header (checkpoints carry I64 buffers such as `position_ids`); only F32, F16 and BF16
/// tensors can be read as floats.
public struct Safetensors {
  /// The element types a header may name, by their header spelling.
  public enum DType: String, Sendable, CaseIterable {
    case F64, I64, U64, F32, I32, U32, F16, BF16, I16, U16, I8, U8, BOOL

    /// Bytes per element.
    public var width: Int {
      switch self {
      case .F64, .I64, .U64: return 8
      case .F32, .I32, .U32: return 4
      case .F16, .BF16, .I16, .U16: return 2
      case .I8, .U8, .BOOL: return 1
      }
    }

    /// Whether `floats` can read a tensor of this type.
    public var isFloat: Bool { self == .F32 || self == .F16 || self == .BF16 }
  }

  public struct Tensor: Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var begin: Int
    public var end: Int
  }

  public let path: String
  public let bytes: [UInt8]
  public let tensors: [String: Tensor]
  let dataStart: Int

  public static func open(_ path: String) throws -> Safetensors {
    let bytes = try FileBytes.read(path)
    guard bytes.count >= 8 else {
      throw InputError(path: path, "shorter than a safetensors header")
    }
    let n = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard n <= UInt64(bytes.count - 8), n <= 100_000_000 else {
      throw InputError(
        path: path, "header length \(n) does not fit the file (\(bytes.count) bytes)")
    }
    let dataStart = 8 + Int(n)
    guard
      let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart]))
        as? [String: Any]
    else { throw InputError(path: path, "header is not a JSON object") }
    var tensors: [String: Tensor] = [:]
    let dataLength = bytes.count - dataStart
    for (name, v) in json where name != "__metadata__" {
      guard let d = v as? [String: Any], let dtypeName = d["dtype"] as? String,
        let shape = d["shape"] as? [Int], let offs = d["data_offsets"] as? [Int], offs.count == 2
      else { throw InputError(path: path, "tensor '\(name)': malformed header entry") }
      guard let dtype = DType(rawValue: dtypeName) else {
        throw InputError(
          path: path,
          "tensor '\(name)': dtype \(dtypeName) not supported (F32, F16, BF16, F64, integers, BOOL)"
        )
      }
      let width = dtype.width
      var elements = 1
      for d in shape {
        let (e, overflow) = elements.multipliedReportingOverflow(by: max(d, 0))
        guard !overflow, e <= dataLength else {
          throw InputError(path: path, "tensor '\(name)': shape \(shape) is larger than the file")
        }
        elements = e
      }
      guard offs[0] >= 0, offs[1] >= offs[0], offs[1] <= dataLength,
        offs[1] - offs[0] == elements * width, shape.allSatisfy({ $0 >= 0 })
      else {
        throw InputError(
          path: path,
          "tensor '\(name)': offsets \(offs) do not fit shape \(shape) of \(dtypeName) in \(dataLength) data bytes"
        )
      }
      tensors[name] = Tensor(name: name, dtype: dtype, shape: shape, begin: offs[0], end: offs[1])
    }
    return Safetensors(path: path, bytes: bytes, tensors: tensors, dataStart: dataStart)
  }

  /// The tensor called `name`, its shape checked against `shape`.
  public func tensor(_ name: String, shape: [Int]) throws -> Tensor {
    guard let t = tensors[name] else {
      throw InputError(path: path, "no tensor '\(name)' (expected shape \(shape))")
    }
    guard t.shape == shape else {
      throw InputError(path: path, "tensor '\(name)' has shape \(t.shape), expected \(shape)")
    }
    return t
  }

  /// The values of the tensor called `name` as float32, its shape checked against `shape`.
  public func floats(_ name: String, shape: [Int]) throws -> [Float] {
    try floats(tensor(name, shape: shape))
  }

  /// The embedding table: the only 2-D float tensor, or else the one named
  /// `*word_embeddings*`.
  public func embeddingTable() throws -> Tensor {
    let twoD = tensors.values.filter {
      $0.dtype.isFloat && $0.shape.count == 2 && $0.shape[1] >= 1
        && $0.shape[1] <= 1 << 16
    }
    .sorted { $0.name < $1.name }
    if twoD.count == 1 { return twoD[0] }
    let named = twoD.filter { $0.name.contains("word_embeddings") }
    if named.count == 1 { return named[0] }
    if twoD.isEmpty,
      let other = tensors.values.filter({ $0.shape.count == 2 }).min(by: { $0.name < $1.name })
    {
      throw InputError(
        path: path,
        "expected one 2-D embedding tensor of F32, F16 or BF16; '\(other.name)' is \(other.dtype.rawValue)"
      )
    }
    throw InputError(
      path: path,
      "expected one 2-D embedding tensor, found \(twoD.map(\.name).sorted().joined(separator: ", "))"
    )
  }

  /// A tensor's values as float32 (F16 and BF16 widened).
  /// Other dtypes are an error naming the tensor.
  public func floats(_ t: Tensor) throws -> [Float] {
    guard t.dtype.isFloat else {
      throw InputError(
        path: path, "tensor '\(t.name)' has dtype \(t.dtype.rawValue); expected F32, F16 or BF16")
    }
    let count = t.shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      let p = raw.baseAddress.map { $0 + dataStart + t.begin }
      guard let p else { return }
      if t.dtype == .F32 {
        out.withUnsafeMutableBytes { o in
          for i in 0..<count {
            o.storeBytes(
              of: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)),
              toByteOffset: 4 * i, as: UInt32.self)
          }
        }
        return
      }
      for i in 0..<count {
        switch t.dtype {
        case .BF16:
          let h = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
          out[i] = Float(bitPattern: UInt32(h) << 16)
        default:
          let h = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
          out[i] = Float(Float16Bits(h))
        }
      }
    }
    return out
  }
}

/// IEEE half precision to single, by bits (Float16 is not available on every platform).
@inline(__always)
func Float16Bits(_ h: UInt16) -> Float {
  let sign = UInt32(h >> 15) << 31
  let exp = Int((h >> 10) & 0x1F)
  let mant = UInt32(h & 0x3FF)
  if exp == 0 {
    let v = Float(mant) * Float(sign == 0 ? 1 : -1) / 16_777_216  // 2^-24
    return v
  }
  if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
  return Float(bitPattern: sign | (UInt32(exp - 15 + 127) << 23) | (mant << 13))
}
