import Foundation
import MQTT

#if canImport(Glibc)
  import Glibc
#endif

/// A real mosquitto on a free loopback port, started and stopped by PID.
final class MosquittoBroker {
  let directory: String
  let port: Int
  let extraConfig: String
  private(set) var process: Process?

  init(extraConfig: String = "", port: Int? = nil) throws {
    directory = NSTemporaryDirectory() + "weir-broker-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    // Started as root, mosquitto drops to its own user: it must be able to write its persistence file.
    chmod(directory, 0o777)
    self.port = port ?? Self.freePort()
    self.extraConfig = extraConfig
    try start()
  }

  deinit {
    if let p = process, p.isRunning {
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
    }
    try? FileManager.default.removeItem(atPath: directory)
  }

  var url: String { "mqtt://127.0.0.1:\(port)" }

  func start() throws {
    let config = """
      listener \(port) 127.0.0.1
      allow_anonymous true
      persistence true
      persistence_location \(directory)/
      autosave_interval 1
      max_queued_messages 1000000
      max_queued_bytes 0
      max_inflight_messages 1000
      \(extraConfig)
      """
    try config.write(toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
    p.arguments = ["-c", directory + "/mosquitto.conf"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle(forWritingAtPath: "/dev/null")
    // A process spawned from a cooperative-pool thread inherits its blocked signals, and a
    // mosquitto with SIGTERM blocked never stops politely: unblock them around the spawn.
    var unblock = sigset_t()
    var previous = sigset_t()
    sigemptyset(&unblock)
    for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&unblock, s) }
    pthread_sigmask(SIG_UNBLOCK, &unblock, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    try p.run()
    process = p
    let deadline = Date().addingTimeInterval(10)
    while !Self.canConnect(port) {
      if Date() > deadline || !p.isRunning { throw BrokerError("mosquitto did not start on port \(port)") }
      usleep(20_000)
    }
  }

  /// SIGTERM (mosquitto saves its persistence file) and wait.
  func stop() {
    guard let p = process else { return }
    kill(p.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(10)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    process = nil
  }

  static func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  static func canConnect(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
  }
}

struct BrokerError: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

/// Publishes through our libmosquitto wrapper on its own thread, QoS 0 or 1, and waits for the
/// broker's acknowledgements. Reconnects when the broker goes away and resends what was not
/// acknowledged.
final class TestPublisher: @unchecked Sendable {
  let client: MosquittoClient
  private(set) var acked = Set<Int32>()
  private(set) var ackedPayloads: [Int32: [UInt8]] = [:]
  private var inflight: [Int32: (String, [UInt8])] = [:]
  private var connected = false

  init(port: Int, id: String, version: MQTTClientConfig.ProtocolVersion = .v311) throws {
    client = try MosquittoClient(
      config: MQTTClientConfig(host: "127.0.0.1", port: port, clientID: id, protocolVersion: version, cleanSession: true))
    client.onConnect = { [unowned self] rc, _, _ in connected = rc == 0 }
    client.onPublish = { [unowned self] mid, _ in
      if let (_, payload) = inflight.removeValue(forKey: mid) { ackedPayloads[mid] = payload }
      acked.insert(mid)
    }
    try client.connect()
    try pump(until: { self.connected }, seconds: 10)
  }

  /// Publishes every message and returns the payloads the broker acknowledged.
  @discardableResult
  func publishAll(_ messages: [(topic: String, payload: [UInt8])], qos: Int32, window: Int = 500, seconds: Double = 120) throws
    -> [[UInt8]]
  {
    var next = 0
    var done: [[UInt8]] = []
    let deadline = Date().addingTimeInterval(seconds)
    while (next < messages.count || !inflight.isEmpty) && Date() < deadline {
      while next < messages.count && inflight.count < window {
        let (topic, payload) = messages[next]
        let mid = try payload.withUnsafeBytes { try client.publish(topic: topic, payload: $0, qos: qos) }
        if qos > 0 { inflight[mid] = (topic, payload) } else { done.append(payload) }
        next += 1
      }
      do {
        _ = try client.readAvailable(maxMessages: 1000, timeoutMs: 5) { _ in }
        try client.writePending()
      } catch {
        // The broker went away: reconnect and resend what it did not acknowledge.
        connected = false
        while !connected && Date() < deadline {
          usleep(100_000)
          if (try? client.reconnect()) != nil { try? pump(until: { self.connected }, seconds: 2) }
        }
        let resend = inflight.values
        inflight.removeAll()
        for (topic, payload) in resend {
          let mid = try payload.withUnsafeBytes { try client.publish(topic: topic, payload: $0, qos: qos) }
          inflight[mid] = (topic, payload)
        }
      }
    }
    done += ackedPayloads.values
    ackedPayloads.removeAll()
    return done
  }

  func pump(until condition: () -> Bool, seconds: Double) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
      if Date() > deadline { throw BrokerError("timed out talking to the broker") }
      try client.writePending()
      _ = try client.readAvailable(maxMessages: 100, timeoutMs: 10) { _ in }
    }
  }

  func close() {
    client.disconnect()
    try? client.writePending()
  }
}
