import Foundation
import Ingest
import Testing
import WeirTestSupport

/// The listener with a password file written by mosquitto_passwd and a mosquitto-style ACL
/// file: a wrong password is refused, a right one gets in; the ACL keeps a device to its own
/// topics and a subscriber to what it may read (refused in the SUBACK, or not delivered).
@Suite(.serialized) struct ListenerAuthTests {
  static func harness() async throws -> (ListenerHarness, Int) {
    let dir = NSTemporaryDirectory() + "weir-auth-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for (i, (user, password)) in [("dev-1", "s3cret"), ("hmi", "panel")].enumerated() {
      let p = try ChildProcess(
        "/usr/bin/mosquitto_passwd", (i == 0 ? ["-c"] : []) + ["-b", dir + "/passwd", user, password])
      guard await p.waitForExit(timeout: 30) == 0 else { throw BrokerError("mosquitto_passwd: \(p.output)") }
    }
    try """
    # devices publish their own telemetry; the panel reads telemetry and status
    pattern write sensors/%u/telemetry
    user hmi
    topic read sensors/#
    topic read status/#
    """.write(toFile: dir + "/acl", atomically: true, encoding: .utf8)
    let h = try ListenerHarness { c in
      c.anonymous = false
      c.passwordFile = dir + "/passwd"
      c.aclFile = dir + "/acl"
    }
    return (h, try await h.start())
  }

  static func pub(_ port: Int, _ user: String, _ password: String, topic: String, id: String) async throws -> Int32? {
    let p = try ChildProcess(
      "/usr/bin/mosquitto_pub",
      [
        "-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-i", id, "-u", user, "-P", password, "-t", topic, "-m",
        #"{"ts":1700000000000}"#,
      ])
    return await p.waitForExit(timeout: 30)
  }

  @Test func aWrongPasswordIsRefusedAndARightOneGetsIn() async throws {
    let (h, port) = try await Self.harness()
    #expect(try await Self.pub(port, "dev-1", "wrong", topic: "sensors/dev-1/telemetry", id: "a") != 0)
    #expect(try await Self.pub(port, "nobody", "s3cret", topic: "sensors/dev-1/telemetry", id: "b") != 0)
    let anonymous = try ChildProcess(
      "/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", "sensors/x/telemetry", "-m", "{}"])
    #expect(await anonymous.waitForExit(timeout: 30) != 0)
    #expect(try await Self.pub(port, "dev-1", "s3cret", topic: "sensors/dev-1/telemetry", id: "c") == 0)
    try await h.stop()
    #expect(try h.records("telemetry").map(\.key) == ["dev-1"])
  }

  @Test func theACLKeepsEachClientToItsTopics() async throws {
    let (h, port) = try await Self.harness()
    let panel = try ListenerSubscriptionTests.subscriber(
      h, port: port, id: "panel", subs: "sensors/+/telemetry:1,secret/#:1,#:0", expect: 1, seconds: 10,
      user: "hmi", password: "panel")
    try await panel.ready()
    // 3.1.1: a refused filter is 0x80; `#` overlaps what hmi may read, so it is granted, and the
    // read check at delivery keeps the rest from it.
    #expect(panel.granted == [1, 128, 0])
    // dev-1 may write only its own telemetry: the other PUBLISH is acknowledged (3.1.1 has no
    // way to refuse it) and not written.
    #expect(try await Self.pub(port, "dev-1", "s3cret", topic: "sensors/dev-1/telemetry", id: "d1") == 0)
    #expect(try await Self.pub(port, "dev-1", "s3cret", topic: "sensors/dev-2/telemetry", id: "d2") == 0)
    #expect(try await Self.pub(port, "dev-1", "s3cret", topic: "secret/plans", id: "d3") == 0)
    try await panel.finish()
    try await h.stop()
    #expect(try h.records("telemetry").map(\.key) == ["dev-1"])
    #expect(try h.records("mqtt").isEmpty)
    #expect(panel.messages.map { $0["topic"] as? String } == ["sensors/dev-1/telemetry"])
  }

  /// A password derivation runs off the event loop: with 1,500,000 PBKDF2 rounds (seconds per
  /// check), an anonymous device connects, publishes and is acknowledged while a wrong
  /// password is still being checked; the wrong one is refused after.
  @Test func aSlowPasswordCheckDoesNotHoldOtherClientsBack() async throws {
    let dir = NSTemporaryDirectory() + "weir-auth-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try (PasswordFile.line(user: "dev-1", password: Array("s3cret".utf8), iterations: 1_500_000) + "\n")
      .write(toFile: dir + "/passwd", atomically: true, encoding: .utf8)
    let h = try ListenerHarness { c in
      c.anonymous = true
      c.passwordFile = dir + "/passwd"
    }
    let port = try await h.start()
    let slow = try ChildProcess(
      "/usr/bin/mosquitto_pub",
      [
        "-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-i", "slow", "-u", "dev-1", "-P", "wrong", "-t", "x", "-m",
        "{}",
      ])
    try await Task.sleep(for: .milliseconds(200))  // its CONNECT is in
    let quick = try ChildProcess(
      "/usr/bin/mosquitto_pub",
      [
        "-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-i", "quick", "-t", "sensors/d1/telemetry", "-m",
        // Now: a reading from 2023 would be past the topic's retention by the time it is read.
        #"{"ts":\#(Int(Date().timeIntervalSince1970 * 1000))}"#,
      ])
    #expect(await quick.waitForExit(timeout: 30) == 0, "the anonymous device was acknowledged")
    #expect(slow.isRunning, "while the wrong password was still being checked")
    #expect(await slow.waitForExit(timeout: 60) != 0, "and the wrong password was refused")
    try await h.stop()
    let keys = try h.records("telemetry").map(\.key)
    #expect(keys == ["d1"])
  }
}
