import Foundation
import Synchronization
import Testing

@testable import Ingest
@testable import PartitionedLog

extension SerialPtyTests {
  /// How a source starts, stops, drains and behaves when the log refuses appends.
  @Suite struct Lifecycle {
    @Test func stopDrainsWhatTheDeviceAlreadySent() async throws {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath), lineProtocol: LineProtocolConfig(format: .jsonLines), store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up })
      for i in 0..<200 { pty.write("{\"i\":\(i)}\n") }
      pty.write("{\"i\":\"half")  // never finished: a dead letter at shutdown
      try await running.finish()
      #expect(log.count("telemetry") == 200)
      #expect(try log.records("deadletter").map(\.error) == ["unparsable: incomplete line: the source stopped"])
      #expect(source.status.lastError == "stopped")
      // A run that has ended does not block the next (the supervisor restarts failed sources); this one was
      // asked to stop already, so it returns at once.
      try await source.run()
    }

    /// A device spewing short garbage lines: each is a dead letter of ~100 bytes, so one read pass
    /// once made more than the log's 16 MiB batch limit and the commit's error ended `run()`.
    @Test func aFloodOfShortGarbageLinesIsDeadLetteredNotFatal() async throws {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath), lineProtocol: LineProtocolConfig(format: .nmea), store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up })
      let lines = 300_000
      pty.write(String(repeating: "x\n", count: lines))
      pty.write(nmea("GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A"))
      #expect(await serialWait(60) { source.status.records == 1 })
      try await running.finish()
      #expect(source.status.deadLetters["unparsable"] == Int64(lines))
      #expect(log.count("telemetry") == 1)
    }

    /// The settings the source applied, read back from the terminal.
    @Test func portSettingsAreApplied() async throws {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      var port = serialTestPort(pty.slavePath, baud: 57_600)
      port.dataBits = 7
      port.parity = .odd
      port.stopBits = 2
      port.flowControl = .rtsCts
      let source = try SerialLineSource(
        port: port, lineProtocol: LineProtocolConfig(format: .jsonLines), store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up })
      let fd = open(pty.slavePath, O_RDWR | O_NOCTTY | O_NONBLOCK)
      var t = termios()
      #expect(fd >= 0 && tcgetattr(fd, &t) == 0)
      close(fd)
      try await running.finish()
      #expect(cfgetispeed(&t) == speed_t(B57600))
      // Linux's pty driver forces CS8 and clears PARENB (pty_set_termios); PARODD survives, which
      // shows the odd parity asked for. `termiosSettings` checks every flag without a device.
      #expect(t.c_cflag & tcflag_t(PARODD) != 0)
      #expect(t.c_cflag & tcflag_t(CSTOPB) != 0 && t.c_cflag & tcflag_t(CRTSCTS) != 0)
      #expect(t.c_lflag & tcflag_t(ICANON) == 0 && t.c_lflag & tcflag_t(ECHO) == 0 && t.c_oflag & tcflag_t(OPOST) == 0)
    }

    /// Several ports into one log at once: each source has its own thread and router; topics and
    /// the dead-letter topic are created once.
    @Test func severalSourcesIntoOneLog() async throws {
      let log = try SerialTestLog()
      let ptys = try (0..<3).map { _ in try SerialPseudoTerminal() }
      let sources = try ptys.enumerated().map { i, pty in
        try SerialLineSource(
          port: serialTestPort(pty.slavePath, deviceId: "gps-\(i)"), lineProtocol: LineProtocolConfig(format: .nmea),
          store: log.store)
      }
      let running = sources.map { SerialRunningSource($0) }
      #expect(await serialWait(10) { sources.allSatisfy { $0.status.up } })
      for (i, pty) in ptys.enumerated() {
        for n in 0..<50 { pty.write(nmea("GPVTG,\(n).0,T,0.0,M,\(i).0,N,0.0,K,A")) }
        pty.write("$GPVTG,bad*00\r\n")
      }
      #expect(await serialWait(10) { log.count("telemetry") == 150 && log.count("deadletter") == 3 })
      for r in running { try await r.finish() }
      let keys = try log.records("telemetry").map { $0.key ?? "" }
      #expect((0..<3).allSatisfy { i in keys.filter { $0 == "gps-\(i)" }.count == 50 })
      #expect(log.store.topics.map(\.name) == ["deadletter", "telemetry"])
    }

    @Test func cancellingTheTaskStopsTheSource() async throws {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath), lineProtocol: LineProtocolConfig(format: .jsonLines), store: log.store)
      let task = Task(executorPreference: SerialQueueExecutor.shared) { try await source.run() }
      #expect(await serialWait(10) { source.status.up })
      pty.write("{\"a\":1}\n")
      #expect(await serialWait(5) { log.count("telemetry") == 1 })
      let start = Date()
      task.cancel()
      try await task.value
      #expect(Date().timeIntervalSince(start) < 1, "stop must not wait for the poll timeout")
      #expect(!source.status.up)
    }

    @Test func stoppingWhileThePortIsMissing() async throws {
      let log = try SerialTestLog()
      var port = serialTestPort("/dev/ttyWEIR-never-there")
      port.reopenInitialDelayMs = 10_000
      port.reopenMaxDelayMs = 10_000
      let source = try SerialLineSource(port: port, lineProtocol: LineProtocolConfig(format: .nmea), store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(5) { source.status.failedOpens == 1 })
      #expect(source.status.nextRetryInMs.map { $0 >= 8000 } == true)
      let start = Date()
      try await running.finish()  // the 10 s back-off sleep ends at once
      #expect(Date().timeIntervalSince(start) < 1)
    }

    /// A `reject_new` topic at its size limit: reading pauses, the status says why, nothing is
    /// dropped silently, and at shutdown `run()` reports the records it could not write.
    @Test func fullLogBackPressuresTheSource() async throws {
      let log = try SerialTestLog()
      _ = try log.store.createTopic(
        "telemetry", config: TopicConfig(segmentBytes: 3000, maxBytes: 3000, onFull: .rejectNew))
      let pty = try SerialPseudoTerminal()
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath), lineProtocol: LineProtocolConfig(format: .jsonLines), store: log.store)
      source.shutdownPatienceMs.store(200, ordering: .relaxed)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up })
      let line = "{\"pad\":\"" + String(repeating: "p", count: 80) + "\"}\n"
      for _ in 0..<12 {
        for _ in 0..<5 { pty.write(line) }
        try await Task.sleep(for: .milliseconds(20))
      }
      #expect(await serialWait(5) { source.status.backPressured })
      let bytes = source.status.bytesRead
      for _ in 0..<10 { pty.write(line) }
      try await Task.sleep(for: .milliseconds(300))
      #expect(source.status.bytesRead == bytes, "a back-pressured source must not read")
      let stored = log.count("telemetry")
      #expect(stored > 0 && stored < 60)
      // Records waiting for the log are not counted as ingested.
      #expect(source.status.records == Int64(stored))
      do {
        try await running.finish()
        Issue.record("run() must report records it could not write")
      } catch let error as LogError {
        #expect(error.code == .full)
        #expect(error.message.contains("records could not be written at shutdown"))
      }
      #expect(log.count("telemetry") == stored)
    }
  }
}
