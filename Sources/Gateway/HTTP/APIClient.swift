public import Foundation
#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Talks to a running daemon's HTTP API (what `weir status`, `weir tail`... use).
public struct APIClient: Sendable {
  public var base: URL
  public var token: String?

  public init(base: URL, token: String? = nil) {
    self.base = base
    self.token = token
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// GETs `path` (with its query) and returns the body.
  public func get(_ path: String) async throws -> Data {
    guard let url = URL(string: path, relativeTo: base) else { throw Failure(description: "bad path \(path)") }
    var request = URLRequest(url: url, timeoutInterval: 10)
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    let data: Data
    let response: URLResponse
    do {
      (data, response) = try await URLSession.shared.data(for: request)
    } catch {
      throw Failure(
        description: "cannot reach weir at \(base.absoluteString): \(error.localizedDescription) (is `weir run` running? --api sets the address)")
    }
    guard let http = response as? HTTPURLResponse else { throw Failure(description: "no HTTP response from \(url)") }
    guard http.statusCode == 200 else {
      let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      throw Failure(description: "\(url.path): HTTP \(http.statusCode)" + (text.isEmpty ? "" : ": \(text)"))
    }
    return data
  }

  public func get<T: Decodable>(_ type: T.Type, _ path: String) async throws -> T {
    let data = try await get(path)
    do {
      return try APICoding.decoder().decode(T.self, from: data)
    } catch {
      throw Failure(description: "\(path): unexpected answer: \(error)")
    }
  }
}
