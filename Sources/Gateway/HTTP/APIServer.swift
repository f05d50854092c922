import Foundation
import Hummingbird
import Logging
import Prometheus

/// The daemon's HTTP side (Hummingbird, loopback by default): probes, Prometheus metrics, the
/// JSON API the CLI uses, and the status page.
struct APIServer {
  let daemon: Daemon

  func application() throws -> some ApplicationProtocol {
    let router = Router()
    let daemon = daemon
    router.get("/healthz") { _, _ in "ok\n" }
    router.get("/readyz") { _, _ -> Response in
      let reasons = daemon.notReady()
      let text = reasons.isEmpty ? "ready\n" : reasons.joined(separator: "\n") + "\n"
      return Response(
        status: reasons.isEmpty ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
    router.get("/metrics") { _, _ -> Response in
      var bytes: [UInt8] = []
      daemon.registry.emit(into: &bytes)
      return Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
    router.get("/") { _, _ -> Response in
      Response(
        status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
        body: .init(byteBuffer: ByteBuffer(string: StatusPage.html(gateway: daemon.config.gatewayID))))
    }

    let api = router.group("api/v1")
    if let token = daemon.config.httpToken { api.add(middleware: BearerTokenMiddleware(token: token)) }
    api.get("status") { _, _ in try Self.json(daemon.status()) }
    api.get("topics") { _, _ in try Self.json(daemon.topics()) }
    api.get("uplinks") { _, _ in try Self.json(UplinksResponse(uplinks: daemon.uplinkSummaries())) }
    api.get("rules") { _, _ in try Self.json(daemon.rules()) }
    api.get("history") { _, _ in
      try Self.json(
        HistoryResponse(intervalSeconds: Double(StatusSampler.intervalMs) / 1000, points: daemon.sampler.history))
    }
    api.get("alerts") { request, _ in
      let limit: Int
      do throws(QueryError) {
        limit = try RecordsQuery.alertsLimit(query: request.uri.query, maximum: AlertIndex.recentCapacity)
      } catch {
        throw HTTPError(.badRequest, message: error.message)
      }
      return try Self.json(daemon.alertIndex.snapshot(limit: limit))
    }
    api.get("topics/:topic/records") { request, context -> Response in
      let topic = context.parameters.get("topic") ?? ""
      let query: RecordsQuery
      do throws(QueryError) {
        query = try RecordsQuery(query: request.uri.query)
      } catch {
        throw HTTPError(.badRequest, message: error.message)
      }
      guard
        var result = daemon.records(
          topic: topic, offsets: query.offsets, fromBeginning: query.fromBeginning, limit: query.limit)
      else {
        throw HTTPError(.notFound, message: "no topic named '\(RecordsQuery.quote(topic))'")
      }
      if result.records.isEmpty, query.waitSeconds > 0 {
        // A long poll: the next page as soon as a record arrives, or the empty one at the deadline.
        await daemon.awaitRecords(topic: topic, after: result.next, seconds: query.waitSeconds)
        let offsets = Dictionary(result.next.map { ($0.partition, $0.offset) }, uniquingKeysWith: { a, _ in a })
        if let again = daemon.records(topic: topic, offsets: offsets, fromBeginning: false, limit: query.limit) {
          result = again
        }
      }
      return try Self.json(result)
    }

    var logger = Logger(label: "weir.http")
    logger.logLevel = .warning
    return Application(
      router: router,
      configuration: .init(
        address: .hostname(daemon.config.httpHost, port: daemon.config.httpPort), serverName: "weir"),
      onServerRunning: { _ in
        // The log is open, every topic exists and the services are starting: tell systemd.
        SystemdNotify.send("READY=1\nSTATUS=serving on \(daemon.config.httpHost):\(daemon.config.httpPort)")
      },
      logger: logger)
  }

  static func json(_ value: some Encodable) throws -> Response {
    let data = try APICoding.encoder().encode(value)
    return Response(
      status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}

/// Requires `Authorization: Bearer <token>` on the API.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
  let token: String

  func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
    -> Response
  {
    let expected = "Bearer " + token
    guard let given = request.headers[.authorization], Self.constantTimeEqual(given, expected) else {
      return Response(
        status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"weir\""],
        body: .init(byteBuffer: ByteBuffer(string: "a bearer token is required (http.token)\n")))
    }
    return try await next(request, context)
  }

  static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in x.indices { diff |= x[i] ^ y[i] }
    return diff == 0
  }
}
