import Foundation
import Hummingbird
import Quarry

/// `--token-file`: every request must carry `Authorization: Bearer <token>`, else 401.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
  let token: [UInt8]

  /// The token is the file's content without surrounding whitespace; an empty or unreadable
  /// file is an error that names it.
  init(file path: String) throws {
    let text = String(decoding: try FileBytes.read(path), as: UTF8.self)
    let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !token.isEmpty else { throw InputError(path: path, "the token file is empty") }
    guard !token.contains(where: \.isWhitespace) else {
      throw InputError(path: path, "the token holds whitespace; write it on one line")
    }
    self.token = Array(token.utf8)
  }

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let given = request.headers[.authorization].map { Array($0.utf8) } ?? []
    // The scheme is case-insensitive (RFC 7235): "bearer" and "BEARER" are "Bearer".
    let prefix = Array("bearer ".utf8)
    let scheme = given.prefix(prefix.count).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
    guard given.count == prefix.count + token.count, scheme == prefix,
      Self.sameBytes(Array(given[prefix.count...]), token)
    else {
      var r = Response.jsonError(.unauthorized, "this server needs Authorization: Bearer <token>")
      r.headers[.wwwAuthenticate] = "Bearer"
      return r
    }
    return try await next(request, context)
  }

  /// Equal byte strings of equal length, in time that depends only on the length.
  static func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in a.indices { diff |= a[i] ^ b[i] }
    return diff == 0
  }
}
