import Testing

@testable import Ingest

extension SerialPtyTests {
  @Suite struct Restart {
    /// The supervisor restarts a source whose run failed: one run at a time, but a run that has ended does not
    /// block the next.
    @Test func oneRunAtATimeAndAgainAfterItEnded() async throws {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let source = try SerialLineSource(
        port: serialTestPort(pty.slavePath, deviceId: "gps"), lineProtocol: LineProtocolConfig(format: .nmea),
        store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(10) { source.status.up })
      await #expect(throws: SerialError.self) { try await source.runUntilStopped() }
      try await running.finish()
      // Asked to stop already, so this run drains at once; before, it threw "already running".
      try await source.runUntilStopped()
    }
  }
}
