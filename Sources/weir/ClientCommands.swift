import ArgumentParser
import Foundation
import Gateway

/// Where the daemon's API is, shared by the commands that talk to it.
struct APIOptions: ParsableArguments {
  @Option(help: "The daemon's HTTP address (env WEIR_API).")
  var api: String = ProcessInfo.processInfo.environment["WEIR_API"] ?? "http://127.0.0.1:8080"

  @Option(help: "Bearer token, when http.token is set (env WEIR_API_TOKEN).")
  var token: String?

  @Flag(help: "Print the API's JSON instead of a table.")
  var json = false

  @Option(help: "Read a stopped daemon's data directory instead of asking the API (topics, lag).")
  var dataDir: String?

  func client() throws -> APIClient {
    guard let url = URL(string: api.hasSuffix("/") ? api : api + "/"), url.scheme != nil else {
      throw ValidationError("--api: expected a URL such as http://127.0.0.1:8080")
    }
    return APIClient(base: url, token: token ?? ProcessInfo.processInfo.environment["WEIR_API_TOKEN"])
  }

  /// Prints the raw JSON (with --json) or returns the decoded document for a table.
  func fetch<T: Codable>(_ type: T.Type, _ path: String, offline: ((OfflineStatus) throws -> T)? = nil) async throws -> T? {
    if let dataDir {
      guard let offline else { throw ValidationError("--data-dir works with weir topics and weir lag; use weir log dump to read records") }
      let value: T
      do {
        value = try offline(try OfflineStatus(dataDirectory: dataDir))
      } catch {
        FileHandle.standardError.write(Data("weir: \(error)\n".utf8))
        throw ExitCode(1)
      }
      if json {
        FileHandle.standardOutput.write(try APICoding.encoder().encode(value) + Data("\n".utf8))
        return nil
      }
      return value
    }
    do {
      let client = try client()
      if json {
        let data = try await client.get(path)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        return nil
      }
      return try await client.get(T.self, path)
    } catch let failure as APIClient.Failure {
      FileHandle.standardError.write(Data("weir: \(failure.description)\n".utf8))
      throw ExitCode(1)
    }
  }
}

/// Left-aligned text columns, right-aligned numbers.
struct Table {
  var headers: [String]
  var rows: [[String]] = []
  var numeric: Set<Int> = []

  func render() -> String {
    var widths = headers.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, c in
        let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
        return numeric.contains(i) ? pad + c : c + pad
      }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
    }
    return ([line(headers)] + rows.map(line)).joined(separator: "\n")
  }
}

enum Format {
  static func count(_ n: Int64) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.reversed().enumerated() {
      if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
      out.append(ch)
    }
    return String(out.reversed())
  }

  static func bytes(_ n: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 {
      v /= 1024
      u += 1
    }
    return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
  }

  static func duration(_ seconds: Double) -> String {
    if seconds < 1 { return String(format: "%.0f ms", seconds * 1000) }
    if seconds < 120 { return String(format: "%.1f s", seconds) }
    if seconds < 7200 { return String(format: "%.0f min", seconds / 60) }
    return String(format: "%.1f h", seconds / 3600)
  }

  static func time(_ ms: Int64) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
  }
}

struct StatusCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "status", abstract: "The running daemon at a glance.")
  @OptionGroup var options: APIOptions

  func run() async throws {
    guard let s = try await options.fetch(StatusResponse.self, "api/v1/status") else { return }
    print("gateway  \(s.gateway)  (weir \(s.version), up \(Format.duration(s.uptimeSeconds)))")
    print("ready    \(s.ready ? "yes" : "no: " + s.notReady.joined(separator: "; "))")
    print(
      "ingest   \(Format.count(s.ingest.records)) records since start, \(String(format: "%.0f", s.ingest.recordsPerSecond))/s, "
        + "\(Format.count(s.ingest.deadLetters)) dead letters")
    print(
      "log      \(Format.bytes(s.log.bytes)) in \(s.log.segments) segments, \(s.log.topics) topics, "
        + "\(Format.bytes(s.log.diskFreeBytes)) free\(s.log.recoveredFromUncleanStop ? ", recovered after an unclean stop" : "")")
    print(
      "rules    \(s.rules.rules) rules, \(Format.count(s.rules.recordsProcessed)) records evaluated, "
        + "\(s.rules.activeAlerts) active alerts")
    print()
    var sources = Table(headers: ["SOURCE", "KIND", "STATE", "RECORDS", "LAST ERROR"], numeric: [3])
    for src in s.sources {
      // A listener is "listening" with its client count; a source is connected or down.
      let state =
        src.kind == "listener"
        ? (src.connected ? "listening (\(src.clients ?? 0) clients)" : "down")
        : (src.connected ? "connected" : "down")
      sources.rows.append([src.name, src.kind, state, Format.count(src.records), src.lastError ?? ""])
    }
    print(sources.render())
    if !s.uplinks.isEmpty {
      print()
      var uplinks = Table(headers: ["UPLINK", "KIND", "STATE", "SENT", "CONFIRMED", "LAG", "LAG AGE", "ERRORS"], numeric: [3, 4, 5, 6, 7])
      for u in s.uplinks {
        uplinks.rows.append([
          u.name, u.kind, u.state, Format.count(u.sentRecords), Format.count(u.ackedRecords), Format.count(u.lagRecords),
          Format.duration(u.lagSeconds), Format.count(u.errors),
        ])
      }
      print(uplinks.render())
    }
  }
}

struct TopicsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "topics", abstract: "The log's topics and their partitions.")
  @OptionGroup var options: APIOptions

  func run() async throws {
    guard let t = try await options.fetch(TopicsResponse.self, "api/v1/topics", offline: { try $0.topics() }) else { return }
    var table = Table(
      headers: ["TOPIC", "PARTITIONS", "RECORDS", "SIZE", "SEGMENTS", "FSYNC", "MAX AGE", "PRIORITY"], numeric: [1, 2, 3, 4, 7])
    for topic in t.topics {
      table.rows.append([
        topic.name, String(topic.partitions.count), Format.count(topic.records), Format.bytes(topic.bytes), String(topic.segments),
        topic.fsync, topic.maxAgeMs.map { Format.duration(Double($0) / 1000) } ?? "forever", String(topic.evictionPriority),
      ])
    }
    print(table.render())
  }
}

struct LagCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lag", abstract: "How far each uplink is behind the log, per partition (the health signal).")
  @OptionGroup var options: APIOptions

  func run() async throws {
    guard let u = try await options.fetch(UplinksResponse.self, "api/v1/uplinks", offline: { try $0.lag() }) else { return }
    var table = Table(
      headers: ["UPLINK", "TOPIC", "PARTITION", "REMOTE", "CONFIRMED", "END", "LAG", "LAG AGE"], numeric: [2, 4, 5, 6, 7])
    for uplink in u.uplinks {
      for p in uplink.partitions {
        table.rows.append([
          uplink.name, p.topic, String(p.partition), p.remoteTopic, Format.count(p.confirmedOffset), Format.count(p.highWatermark),
          Format.count(p.lagRecords), Format.duration(p.lagSeconds),
        ])
      }
    }
    print(table.render())
    for uplink in u.uplinks {
      print("\(uplink.name): \(uplink.state), \(Format.count(uplink.lagRecords)) records behind" + (uplink.lastError.map { "; last error: \($0)" } ?? ""))
    }
  }
}

struct AlertsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(commandName: "alerts", abstract: "Active alerts and the latest transitions.")
  @OptionGroup var options: APIOptions
  @Option(help: "How many recent transitions to show.") var limit = 20

  func run() async throws {
    guard let a = try await options.fetch(AlertsResponse.self, "api/v1/alerts?limit=\(limit)") else { return }
    print("active alerts: \(a.active.count)")
    var active = Table(headers: ["RULE", "KEY", "SEVERITY", "SINCE", "MESSAGE"])
    for alert in a.active { active.rows.append([alert.rule, alert.key, alert.severity, Format.time(alert.timestampMs), alert.message]) }
    if !a.active.isEmpty { print(active.render()) }
    print()
    print("latest transitions (\(Format.count(a.total)) in the alerts topic):")
    var recent = Table(headers: ["OFFSET", "TIME", "RULE", "KEY", "STATE", "SEVERITY"], numeric: [0])
    for alert in a.recent {
      recent.rows.append([String(alert.offset), Format.time(alert.timestampMs), alert.rule, alert.key, alert.state, alert.severity])
    }
    print(recent.render())
  }
}

struct TailCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tail", abstract: "Print a topic's latest records; --follow keeps printing new ones.")
  @OptionGroup var options: APIOptions
  @Argument(help: "The topic.") var topic: String
  @Flag(help: "Start at the oldest record kept.") var fromBeginning = false
  @Flag(name: .shortAndLong, help: "Keep printing records as they arrive (Ctrl-C stops).") var follow = false
  @Option(name: .shortAndLong, help: "Records per request (and, without --follow, in all).") var limit = 20

  func run() async throws {
    let client = try options.client()
    var offsets: [PartitionOffset] = []
    while true {
      var path = "api/v1/topics/\(topic)/records?limit=\(limit)"
      // Following: the server holds an empty page until a record arrives (a long poll).
      if follow && !offsets.isEmpty { path += "&wait=5" }
      if !offsets.isEmpty {
        path += "&offsets=" + offsets.map { "\($0.partition):\($0.offset)" }.joined(separator: ",")
      } else if fromBeginning {
        path += "&from=beginning"
      }
      let page: RecordsResponse
      do {
        page = try await client.get(RecordsResponse.self, path)
      } catch let failure as APIClient.Failure {
        FileHandle.standardError.write(Data("weir: \(failure.description)\n".utf8))
        throw ExitCode(1)
      }
      for r in page.records {
        if options.json {
          let data = try APICoding.encoder().encode(r)
          print(String(decoding: data, as: UTF8.self))
        } else {
          print("\(topic)/\(r.partition)@\(r.offset)  \(Format.time(r.timestampMs))  \(r.key ?? "-")  \(r.value ?? "null")")
        }
      }
      offsets = page.next
      if !follow { return }
    }
  }
}
