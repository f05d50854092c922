import Foundation
import Testing

/// A `mosquitto` of its own on a free loopback port, standing in for the central broker:
/// persistent (so a restart keeps sessions and queued messages) with no queue limit.
final class CentralBroker: Sendable {
  let port: Int
  let directory: String
  private let child: ManagedChild

  init(_ dir: TempDirectory) throws {
    port = try freeLoopbackPort()
    directory = dir.path + "/broker"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let conf = """
      listener \(port) 127.0.0.1
      allow_anonymous true
      persistence true
      persistence_location \(directory)/
      max_queued_messages 0
      user root
      log_dest file \(directory)/mosquitto.log

      """
    try conf.write(toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
    child = ManagedChild()
    try start()
  }

  static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/mosquitto") }

  func start() throws {
    try child.replace(with: Child("/usr/sbin/mosquitto", ["-c", directory + "/mosquitto.conf"]))
    // Ready when it accepts connections.
    for _ in 0..<100 {
      if canConnect(port: port) { return }
      usleep(20_000)
    }
    throw CentralBrokerError(message: "mosquitto did not start on port \(port)")
  }

  /// Stops it the way an operator would (SIGTERM: it saves its persistence file first).
  func stop() async throws {
    guard let current = child.current else { return }
    current.signal(SIGTERM)
    _ = try await current.exitStatus()
  }

  deinit { child.current?.signal(SIGKILL) }
}

struct CentralBrokerError: Error { var message: String }

/// Holds the current child process of something restarted.
final class ManagedChild: @unchecked Sendable {
  private let lock = NSLock()
  private var child: Child?
  var current: Child? { lock.withLock { child } }
  func replace(with new: Child) { lock.withLock { child = new } }
}

/// A port nothing listens on right now.
func freeLoopbackPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  let bound = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
      bind(fd, p, length) == 0 && getsockname(fd, p, &length) == 0
    }
  }
  guard bound else { throw CentralBrokerError(message: "cannot find a free port") }
  return Int(UInt16(bigEndian: address.sin_port))
}

func canConnect(port: Int) -> Bool {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = UInt16(port).bigEndian
  return withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
  }
}

/// One record as the central MQTT subscriber received it (the uplink's JSON envelope).
struct EnvelopeRecord {
  var timestamp: Int64
  var key: String?
  var value: String?
  var headers: [String: String]

  init?(_ line: String) {
    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
      let timestamp = (object["timestamp"] as? NSNumber)?.int64Value,
      let headers = object["headers"] as? [String: Any]
    else { return nil }
    self.timestamp = timestamp
    key = object["key"] as? String
    value = object["value"] as? String
    self.headers = headers.compactMapValues { $0 as? String }
  }

  var id: String? {
    guard let g = headers["weir.gateway"], let e = headers["weir.epoch"], let t = headers["weir.topic"],
      let p = headers["weir.partition"], let o = headers["weir.offset"]
    else { return nil }
    return "\(g)/\(e)/\(t)/\(p)/\(o)"
  }
}

/// Per local topic/partition, offsets in order of first arrival, and how many were duplicates.
func firstArrivals(_ records: [EnvelopeRecord]) -> (order: [String: [Int64]], duplicates: Int) {
  var seen: Set<String> = []
  var order: [String: [Int64]] = [:]
  var duplicates = 0
  for r in records where r.headers["weir.gap"] == nil {
    guard let id = r.id, let offset = r.headers["weir.offset"].flatMap({ Int64($0) }) else { continue }
    if seen.insert(id).inserted {
      order["\(r.headers["weir.topic"]!)/\(r.headers["weir.partition"]!)", default: []].append(offset)
    } else {
      duplicates += 1
    }
  }
  return (order, duplicates)
}
