import Foundation
import WeirTestSupport

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
  static func freePort() throws -> Int32 { Int32(MosquittoBroker.freePort()) }

  /// Whether something accepts TCP connections on 127.0.0.1:port.
  static func accepts(port: Int32) -> Bool { MosquittoBroker.canConnect(Int(port)) }

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

extension MosquittoBroker {
  /// The broker as firmware-sim names one.
  var simURL: BrokerURL { BrokerURL(host: "127.0.0.1", port: Int32(port)) }
}
