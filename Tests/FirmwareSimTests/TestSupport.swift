import Foundation
@testable import FirmwareSim

#if canImport(Glibc)
  import Glibc
#endif

/// 2026-01-05T08:00:00Z, the simulated start of most tests.
let testStart: Int64 = 1_767_600_000_000

enum TestSupport {
  /// The repository root (this file is Tests/FirmwareSimTests/TestSupport.swift).
  static let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// A fresh temporary directory.
  static func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("firmware-sim-tests-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// A JSON object parsed by Foundation (an independent parser), or nil if the bytes are not one.
  static func jsonObject(_ bytes: [UInt8]) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
  }

  /// `count` identical devices of a kind, numbered from 1.
  static func devices(_ kind: DeviceKind, count: Int, intervalSeconds: Double = 1, qos: Int32 = 0) -> [DeviceSpec] {
    (1...count).map {
      DeviceSpec(id: DeviceSpec.id(kind: kind, number: $0), kind: kind, intervalMillis: Int64(intervalSeconds * 1000), qos: qos)
    }
  }

  /// Every message of a simulator, in order.
  static func drain(_ simulator: FleetSimulator) -> [FleetMessage] {
    var simulator = simulator
    var messages: [FleetMessage] = []
    while let message = simulator.next() { messages.append(message) }
    return messages
  }

  /// Whether `observed` successes in `trials` are consistent with probability `rate`: within
  /// `sigmas` binomial standard deviations (plus one for rounding).
  static func consistent(observed: Int, trials: Int, rate: Double, sigmas: Double = 4.5) -> Bool {
    let expected = Double(trials) * rate
    let deviation = (Double(trials) * rate * (1 - rate)).squareRoot()
    return abs(Double(observed) - expected) <= sigmas * deviation + 1
  }

  /// A loopback TCP port nobody listens on right now.
  static func freePort() throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw SystemError(errno: errno, operation: "socket") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw SystemError(errno: errno, operation: "bind") }
    let named = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw SystemError(errno: errno, operation: "getsockname") }
    return Int32(UInt16(bigEndian: address.sin_port))
  }

  /// Whether something accepts TCP connections on 127.0.0.1:port.
  static func accepts(port: Int32) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let result = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    return result == 0
  }

  /// Poll until `condition` holds or `timeout` seconds pass.
  static func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while !condition() {
      if Date() > deadline { return false }
      usleep(5000)
    }
    return true
  }
}

/// A real mosquitto broker on a free loopback port, configured from a file in a temp directory.
/// Always `stop()` it in a `defer`: it is killed by its PID.
final class MosquittoBroker {
  let port: Int32
  let directory: URL
  private let process: Process

  init() throws {
    directory = try TestSupport.temporaryDirectory("broker")
    var lastError: (any Error)?
    for _ in 0..<5 {
      let port = try TestSupport.freePort()
      let config = directory.appendingPathComponent("mosquitto.conf")
      try """
        listener \(port) 127.0.0.1
        allow_anonymous true
        max_queued_messages 1000000
        max_inflight_messages 1000
        persistence false
        log_dest file \(directory.appendingPathComponent("mosquitto.log").path)

        """.write(to: config, atomically: true, encoding: .utf8)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
      process.arguments = ["-c", config.path]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      if TestSupport.wait(timeout: 5, { TestSupport.accepts(port: port) || !process.isRunning }), process.isRunning {
        self.port = port
        self.process = process
        return
      }
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      lastError = SystemError(errno: ECONNREFUSED, operation: "start mosquitto on port \(port)")
    }
    throw lastError!
  }

  var url: BrokerURL { BrokerURL(host: "127.0.0.1", port: port) }

  /// Kill the broker by PID and reap it.
  func stop() {
    let pid = process.processIdentifier
    if process.isRunning {
      kill(pid, SIGTERM)
      if !TestSupport.wait(timeout: 3, { !process.isRunning }) {
        kill(pid, SIGKILL)
      }
    }
    process.waitUntilExit()
    try? FileManager.default.removeItem(at: directory)
  }
}
