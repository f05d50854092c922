import Foundation
import Synchronization
import Testing
import WeirTestSupport

@testable import FirmwareSim

/// Against a real mosquitto broker started for each test (and killed by PID afterwards).
@Suite(.serialized)
struct MQTTFleetTests {
  /// Subscribes with our wrapper and records every message.
  final class Recorder: Sendable {
    let messages = Mutex<[(topic: String, payload: [UInt8])]>([])
    var count: Int { messages.withLock { $0.count } }
  }

  static func subscribe(_ broker: MosquittoBroker, _ filter: String, recorder: Recorder) throws -> MosquittoClient {
    let client = try MosquittoClient(MosquittoClient.Configuration(clientID: "firmware-sim-test-subscriber")) {
      topic, payload in
      recorder.messages.withLock { $0.append((topic, payload)) }
    }
    try client.connectAsync(host: "127.0.0.1", port: Int32(broker.port))
    try client.startLoop()
    #expect(try client.waitUntilConnected(timeout: 5))
    try client.subscribe(filter, qos: 1)
    #expect(TestSupport.wait(timeout: 5) { client.subscriptionsAcknowledged == 1 })
    return client
  }

  static func fleet(speed: Double, seconds: Int64, qos: Int32) -> FleetSimulator {
    let devices =
      TestSupport.devices(.motor, count: 4, qos: qos) + TestSupport.devices(.pump, count: 1, qos: qos)
      + TestSupport.devices(.env, count: 1, intervalSeconds: 5, qos: qos)
    return FleetSimulator(
      devices: devices, seed: 77, clock: SimClock(startEpochMillis: testStart, speed: speed),
      faults: FaultRates(), endMillis: seconds * 1000)
  }

  @Test func acceleratedFleetArrivesCompleteAndWellFormed() throws {
    let broker = try MosquittoBroker()
    defer { broker.stop() }
    let recorder = Recorder()
    let subscriber = try Self.subscribe(broker, "sensors/+/telemetry", recorder: recorder)
    defer { subscriber.close() }

    let simulator = Self.fleet(speed: 600, seconds: 300, qos: 1)
    let expected = TestSupport.drain(simulator)
    var options = FleetRunOptions(broker: broker.simURL)
    options.connections = 2
    var runner = FleetRunner(simulator: simulator, options: options, stop: StopFlag(), progress: nil)
    let summary = try runner.run()

    #expect(summary.published == expected.count)
    #expect(summary.delivered == expected.count)
    // 300 simulated seconds at 600x: half a second of wall time, not less.
    #expect(summary.realSeconds >= 0.45 && summary.realSeconds < 10)
    #expect(TestSupport.wait(timeout: 10) { recorder.count >= expected.count })
    let received = recorder.messages.withLock { $0 }
    #expect(received.count == expected.count)

    let kinds: [String: Set<String>] = [
      "motor": ["device", "kind", "ts", "vibration", "temperature", "current", "rpm"],
      "pump": ["device", "kind", "ts", "pressure", "flow", "temperature"],
      "env": ["device", "kind", "ts", "temperature", "humidity"],
    ]
    var perDevice: [String: [[UInt8]]] = [:]
    for (topic, payload) in received {
      let object = try #require(TestSupport.jsonObject(payload))
      let device = try #require(object["device"] as? String)
      #expect(topic == "sensors/\(device)/telemetry")
      let kind = try #require(object["kind"] as? String)
      #expect(Set(object.keys) == kinds[kind])
      #expect(device.hasPrefix(kind + "-"))
      let ts = try #require((object["ts"] as? NSNumber)?.int64Value)
      #expect(ts >= testStart && ts <= testStart + 300_000, "timestamps follow simulated time")
      perDevice[device, default: []].append(payload)
    }
    // Per device, the broker delivered exactly the simulated sequence, in order.
    var expectedPerDevice: [String: [[UInt8]]] = [:]
    for message in expected {
      expectedPerDevice[simulator.devices[message.device].id, default: []].append(message.payload)
    }
    #expect(perDevice == expectedPerDevice)
  }

  @Test func reconnectStormLosesNoQoS1Message() throws {
    let broker = try MosquittoBroker()
    defer { broker.stop() }
    let recorder = Recorder()
    let subscriber = try Self.subscribe(broker, "sensors/#", recorder: recorder)
    defer { subscriber.close() }

    let simulator = Self.fleet(speed: 60, seconds: 240, qos: 1)
    let expected = Set(TestSupport.drain(simulator).map(\.payload))
    var options = FleetRunOptions(broker: broker.simURL)
    options.connectionPerDevice = true
    options.reconnectStormSeconds = 1.2
    options.clientIDPrefix = "firmware-sim-storm"
    var runner = FleetRunner(simulator: simulator, options: options, stop: StopFlag(), progress: nil)
    let summary = try runner.run()
    #expect(summary.storms >= 2)
    #expect(summary.reconnections >= 2 * simulator.devices.count)
    #expect(summary.dropped == 0, "libmosquitto keeps QoS 1 messages published while disconnected")
    #expect(summary.published == expected.count)
    #expect(summary.delivered == expected.count)
    #expect(
      TestSupport.wait(timeout: 10) { Set(recorder.messages.withLock { $0.map(\.payload) }).count >= expected.count })
    // At least once: every message arrives, a resend after a cut connection may arrive twice.
    let received = recorder.messages.withLock { $0.map(\.payload) }
    #expect(Set(received) == expected)
    #expect(received.count >= expected.count && received.count <= expected.count + 200)
  }

  @Test func stopFlagEndsARealTimeRunPromptly() throws {
    let broker = try MosquittoBroker()
    defer { broker.stop() }
    let stop = StopFlag()
    let simulator = Self.fleet(speed: 1, seconds: 3600, qos: 0)
    var options = FleetRunOptions(broker: broker.simURL)
    options.clientIDPrefix = "firmware-sim-stop"
    let started = Date()
    DispatchQueue.global().asyncAfter(deadline: .now() + 1) { stop.stop() }
    var runner = FleetRunner(simulator: simulator, options: options, stop: stop, progress: nil)
    let summary = try runner.run()
    #expect(summary.stopped)
    #expect(Date().timeIntervalSince(started) < 5)
    #expect(summary.published > 0 && summary.published < 30)
  }

  @Test(arguments: [Int32(0), 1])
  func loadModePublishesEveryMessage(qos: Int32) throws {
    let broker = try MosquittoBroker()
    defer { broker.stop() }
    let recorder = Recorder()
    let subscriber = try Self.subscribe(broker, "bench/#", recorder: recorder)
    defer { subscriber.close() }

    var options = LoadOptions(broker: broker.simURL)
    options.messages = 20_000
    options.payloadBytes = 100
    options.qos = qos
    options.publishers = 2
    options.topicsPerPublisher = 3
    let result = try LoadGenerator.run(options, stop: StopFlag())
    #expect(result.messages == 20_000)
    #expect(result.errors == 0)
    #expect(result.messagesPerSecond > 1000)
    let json = try #require(TestSupport.jsonObject(Array(result.json().utf8)))
    #expect((json["messages"] as? NSNumber)?.intValue == 20_000)
    #expect(json["msgs_per_s"] is NSNumber && json["seconds"] is NSNumber)

    if qos == 1 {
      #expect(TestSupport.wait(timeout: 20) { recorder.count >= 20_000 })
      let received = recorder.messages.withLock { $0 }
      #expect(received.count == 20_000)
      #expect(Set(received.map(\.topic)) == Set((0..<2).flatMap { p in (0..<3).map { "bench/\(p)/\($0)" } }))
      #expect(received.allSatisfy { $0.payload.count == 100 })
    } else {
      // QoS 0 may be dropped by the broker under load; most of it arrives on loopback.
      _ = TestSupport.wait(timeout: 5) { recorder.count >= 20_000 }
      #expect(recorder.count > 10_000)
    }
  }

  /// Pins docs/parts.md: after a first mosquitto_connect_async that failed at once, libmosquitto 2.0.11's
  /// loop thread never connects on its own, even once the broker is up; calling connect_async again
  /// does. (FleetRunner retries first connects for this reason.)
  @Test func loopThreadDoesNotRetryAFailedFirstConnect() throws {
    let port = try TestSupport.freePort()
    let client = try MosquittoClient(MosquittoClient.Configuration(clientID: "firmware-sim-pin-first"))
    defer { client.close() }
    #expect(throws: MosquittoError.self) { try client.connectAsync(host: "127.0.0.1", port: port) }
    try client.startLoop()
    let directory = try TestSupport.temporaryDirectory("first-connect")
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = directory.appendingPathComponent("mosquitto.conf")
    try "listener \(port) 127.0.0.1\nallow_anonymous true\n".write(to: config, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
    process.arguments = ["-c", config.path]
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    #expect(TestSupport.wait(timeout: 5) { TestSupport.accepts(port: port) })
    #expect(!(try client.waitUntilConnected(timeout: 3)), "2.0.11 does not retry by itself")
    try client.connectAsync(host: "127.0.0.1", port: port)
    #expect(try client.waitUntilConnected(timeout: 5))
  }

  @Test func fleetWaitsForABrokerThatStartsLate() throws {
    let port = try TestSupport.freePort()
    var options = FleetRunOptions(broker: BrokerURL(host: "127.0.0.1", port: port))
    options.connectTimeoutSeconds = 8
    options.clientIDPrefix = "firmware-sim-late"
    let directory = try TestSupport.temporaryDirectory("late-broker")
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = directory.appendingPathComponent("mosquitto.conf")
    try "listener \(port) 127.0.0.1\nallow_anonymous true\n".write(to: config, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
    process.arguments = ["-c", config.path]
    process.standardError = FileHandle.nullDevice
    defer {
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
    }
    DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) { try? process.run() }
    var runner = FleetRunner(
      simulator: Self.fleet(speed: 600, seconds: 30, qos: 1), options: options, stop: StopFlag(), progress: nil)
    let summary = try runner.run()
    #expect(summary.published > 0)
    #expect(summary.dropped == 0)
  }

  /// Pins docs/parts.md: while the connection is down, libmosquitto 2.0.11 answers a QoS 1 publish with
  /// MOSQ_ERR_NO_CONN, yet keeps the message and delivers it after reconnecting (so the fleet counts
  /// it as queued and must not resend it itself).
  @Test func qos1PublishWhileDisconnectedReportsNoConnectionYetIsDelivered() throws {
    let broker = try MosquittoBroker()
    defer { broker.stop() }
    let recorder = Recorder()
    let subscriber = try Self.subscribe(broker, "pin/#", recorder: recorder)
    defer { subscriber.close() }
    let client = try MosquittoClient(MosquittoClient.Configuration(clientID: "firmware-sim-pin-noconn"))
    defer { client.close() }
    try client.connectAsync(host: "127.0.0.1", port: Int32(broker.port))
    try client.startLoop()
    #expect(try client.waitUntilConnected(timeout: 5))
    client.dropConnection()
    #expect(TestSupport.wait(timeout: 2) { !client.isConnected })
    for n in 0..<5 {
      #expect {
        try client.publish(topic: "pin/\(n)", payload: [UInt8(n)], qos: 1)
      } throws: { ($0 as? MosquittoError)?.isNotConnected == true }
    }
    #expect {
      try client.publish(topic: "pin/qos0", payload: [9], qos: 0)
    } throws: { ($0 as? MosquittoError)?.isNotConnected == true }
    #expect(TestSupport.wait(timeout: 5) { client.isConnected })
    #expect(TestSupport.wait(timeout: 10) { client.acknowledged >= 5 })
    #expect(TestSupport.wait(timeout: 5) { recorder.count >= 5 })
    usleep(200_000)
    let topics = recorder.messages.withLock { $0.map(\.topic) }
    #expect(Set(topics) == Set((0..<5).map { "pin/\($0)" }), "the QoS 0 message is lost, the QoS 1 ones are not")
  }

  /// Pins docs/parts.md: a first mosquitto_connect_async that is refused fails at once.
  @Test func connectAsyncReportsARefusedConnectionAtOnce() throws {
    let port = try TestSupport.freePort()
    let client = try MosquittoClient(MosquittoClient.Configuration(clientID: "firmware-sim-pin-refused"))
    #expect {
      try client.connectAsync(host: "127.0.0.1", port: port)
    } throws: { ($0 as? MosquittoError)?.isNetworkFailure == true }
  }

  @Test func unreachableBrokerIsAnError() throws {
    let port = try TestSupport.freePort()
    var options = FleetRunOptions(broker: BrokerURL(host: "127.0.0.1", port: port))
    options.connectTimeoutSeconds = 1
    var runner = FleetRunner(
      simulator: Self.fleet(speed: 600, seconds: 10, qos: 0), options: options, stop: StopFlag(), progress: nil)
    #expect(throws: FleetRunError.self) { try runner.run() }
  }
}
