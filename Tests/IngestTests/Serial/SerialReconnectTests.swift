import Foundation
import Testing
import WeirTestSupport

@testable import Ingest
@testable import PartitionedLog

extension SerialPtyTests {
  /// The device goes away (the pty master closes, its path disappears) and comes back as a new
  /// pty behind the same symlink, as a USB adapter does behind `/dev/serial/by-id/...`.
  @Suite struct Reconnect {
    /// Points `link` at `target` atomically (a temporary link renamed over it).
    static func relink(_ link: String, to target: String) throws {
      let temporary = link + ".new"
      unlink(temporary)
      guard symlink(target, temporary) == 0, rename(temporary, link) == 0 else {
        throw SerialTestError("relink \(link) -> \(target): errno \(errno)")
      }
    }

    @Test func lineSourceRecoversWhenTheDeviceComesBack() async throws {
      let log = try SerialTestLog()
      let link = log.path + "/ttyWEIR"
      var pty = try SerialPseudoTerminal()
      try Self.relink(link, to: pty.slavePath)
      let metrics = TestMetrics()
      let source = try SerialLineSource(
        port: serialTestPort(link, deviceId: "probe"), lineProtocol: LineProtocolConfig(format: .jsonLines),
        store: log.store, metrics: metrics)
      let running = SerialRunningSource(source)
      let up = [("port", link)]
      #expect(await serialWait(10) { source.status.up })
      #expect(metrics.value("weir_serial_port_up", up) == 1)

      for i in 0..<10 { pty.write("{\"n\":\(i)}\n") }
      #expect(await serialWait(5) { log.count("telemetry") == 10 })
      pty.write("{\"n\":\"cut off")  // the adapter is pulled mid-line
      try await Task.sleep(for: .milliseconds(50))
      pty.close()
      unlink(link)
      #expect(await serialWait(5) { !source.status.up && source.status.failedOpens >= 2 })
      let down = source.status
      #expect(down.lastError?.contains("No such file or directory") == true, "\(down.lastError ?? "")")
      #expect(metrics.value("weir_serial_port_up", up) == 0)
      #expect(down.nextRetryInMs.map { $0 >= 20 && $0 <= 200 } == true)

      pty = try SerialPseudoTerminal()
      try Self.relink(link, to: pty.slavePath)
      #expect(await serialWait(10) { source.status.up })
      #expect(source.status.reconnects == 1)
      #expect(metrics.value("weir_serial_port_up", up) == 1)
      #expect(metrics.value("weir_serial_reconnects_total", up) == 1)
      for i in 10..<20 { pty.write("{\"n\":\(i)}\n") }
      #expect(await serialWait(5) { log.count("telemetry") == 20 })
      try await running.finish()
      pty.close()

      let values = try log.records("telemetry").map(\.value)
      #expect(values == (0..<20).map { "{\"n\":\($0)}" })
      let dead = try log.records("deadletter")
      #expect(dead.map(\.error) == ["unparsable: incomplete line: the device went away"])
      #expect(dead.first?.value == "{\"n\":\"cut off")
    }

    @Test func modbusSourceRecoversWhenTheBusComesBack() async throws {
      let log = try SerialTestLog()
      let link = log.path + "/ttyRS485"
      var pty = try SerialPseudoTerminal()
      try Self.relink(link, to: pty.slavePath)
      var bank = SerialModbusTestSlave.Bank()
      bank.input[0] = 100
      var slave = SerialModbusTestSlave(pty: pty, banks: [9: bank])
      let config = ModbusConfig(
        port: serialTestPort(link, deviceId: nil, baud: 9600), responseTimeoutMs: 50, retries: 1,
        slaves: [
          ModbusSlaveConfig(
            unitId: 9, deviceId: "meter", intervalMs: 50,
            registers: [.init(name: "v", table: .inputRegister, address: 0)])
        ])
      let source = try ModbusSource(config: config, store: log.store)
      let running = SerialRunningSource(source)
      #expect(await serialWait(5) { log.count("telemetry") >= 3 })
      slave.stop()
      pty.close()
      unlink(link)
      #expect(await serialWait(5) { !source.status.port.up })
      #expect(source.status.slave(9)?.up == false)
      #expect(source.status.slave(9)?.lastError?.hasPrefix("port down") == true)
      let before = log.count("telemetry")

      pty = try SerialPseudoTerminal()
      bank.input[0] = 200
      slave = SerialModbusTestSlave(pty: pty, banks: [9: bank])
      try Self.relink(link, to: pty.slavePath)
      #expect(await serialWait(5) { log.count("telemetry") >= before + 3 })
      try await running.finish()
      slave.stop()
      let values = try log.records("telemetry").map(\.value)
      #expect(values.prefix(before).allSatisfy { $0 == #"{"v":100}"# })
      #expect(values.dropFirst(before).allSatisfy { $0 == #"{"v":200}"# })
      #expect(source.status.port.reconnects == 1)
      #expect(source.status.slave(9)?.up == true)
    }
  }
}
