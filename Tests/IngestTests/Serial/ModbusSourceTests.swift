import Foundation
import Testing
import WeirTestSupport

@testable import Ingest
@testable import PartitionedLog

extension SerialPtyTests {
  @Suite struct ModbusSources {
    struct Rig {
      let log: SerialTestLog
      let pty: SerialPseudoTerminal
      let slave: SerialModbusTestSlave
      let source: ModbusSource
      let running: SerialRunningSource
      let metrics: TestMetrics

      func finish() async throws {
        try await running.finish()
        slave.stop()
      }
    }

    static func start(
      banks: [UInt8: SerialModbusTestSlave.Bank], slaves: [ModbusSlaveConfig], timeoutMs: Int = 100, retries: Int = 2
    ) throws -> Rig {
      let log = try SerialTestLog()
      let pty = try SerialPseudoTerminal()
      let slave = SerialModbusTestSlave(pty: pty, banks: banks)
      let metrics = TestMetrics()
      var port = serialTestPort(pty.slavePath, deviceId: nil, baud: 19200)
      port.parity = .even
      let config = ModbusConfig(port: port, responseTimeoutMs: timeoutMs, retries: retries, slaves: slaves)
      let source = try ModbusSource(config: config, store: log.store, metrics: metrics)
      return Rig(
        log: log, pty: pty, slave: slave, source: source, running: SerialRunningSource(source), metrics: metrics)
    }

    @Test func everyRegisterTypeAndOrder() async throws {
      var bank = SerialModbusTestSlave.Bank()
      bank.holding[0] = UInt16(bitPattern: -1234)
      bank.holding[1] = 50000
      bank.put32(2, UInt32(bitPattern: -123_456_789))
      bank.put32(4, UInt32(bitPattern: -123_456_789), wordOrder: .little)
      bank.put32(6, 3_000_000_000)
      bank.put32(8, 3_000_000_000, wordOrder: .little, byteOrder: .little)
      bank.put32(10, Float(3.2).bitPattern)
      bank.put32(12, Float(-0.15625).bitPattern, wordOrder: .little)
      bank.put32(14, Float(1013.25).bitPattern, wordOrder: .little, byteOrder: .little)
      bank.holding[16] = UInt16(0x3412)  // 0x1234 with its bytes swapped
      bank.holding[17] = 32  // 3.2 bar at scale 0.1
      bank.holding[18] = UInt16(bitPattern: -400)  // -40.0 °C: scale 0.1, offset 0
      bank.holding[19] = 2731  // 273.1 K - 273.15 = -0.05 °C
      bank.input[100] = 777
      for address in 0..<10 { bank.coils[address] = [0, 2, 9].contains(address) }
      bank.discreteInputs = [5: true]
      let entries: [RegisterMapEntry] = [
        .init(name: "i16", address: 0, type: .int16),
        .init(name: "u16", address: 1, type: .uint16),
        .init(name: "i32_abcd", address: 2, type: .int32),
        .init(name: "i32_cdab", address: 4, type: .int32, wordOrder: .little),
        .init(name: "u32_abcd", address: 6, type: .uint32),
        .init(name: "u32_dcba", address: 8, type: .uint32, wordOrder: .little, byteOrder: .little),
        .init(name: "f32_abcd", address: 10, type: .float32),
        .init(name: "f32_cdab", address: 12, type: .float32, wordOrder: .little),
        .init(name: "f32_dcba", address: 14, type: .float32, wordOrder: .little, byteOrder: .little, unit: "hPa"),
        .init(name: "u16_swapped", address: 16, type: .uint16, byteOrder: .little),
        .init(name: "pressure", address: 17, type: .uint16, scale: 0.1, unit: "bar"),
        .init(name: "temperature", address: 18, type: .int16, scale: 0.1, unit: "°C"),
        .init(name: "celsius", address: 19, type: .uint16, scale: 0.1, offset: -273.15),
        .init(name: "counter", table: .inputRegister, address: 100),
        .init(name: "pump_on", table: .coil, address: 0),
        .init(name: "valve_open", table: .coil, address: 2),
        .init(name: "alarm", table: .coil, address: 9),
        .init(name: "door", table: .discreteInput, address: 5),
      ]
      let rig = try Self.start(
        banks: [7: bank],
        slaves: [ModbusSlaveConfig(unitId: 7, deviceId: "pump-7", intervalMs: 100, registers: entries, maxGap: 8)])
      #expect(await serialWait(5) { rig.log.count("telemetry") >= 2 })
      try await rig.finish()

      let records = try rig.log.records("telemetry")
      let first = try #require(records.first)
      #expect(first.key == "pump-7")
      #expect(first.headers["modbus.unit_id"] == "7")
      #expect(first.headers["modbus.units"] == #"{"f32_dcba":"hPa","pressure":"bar","temperature":"°C"}"#)
      #expect(abs(first.timestamp - Int64(Date().timeIntervalSince1970 * 1000)) < 10_000)
      #expect(
        first.value
          == #"{"i16":-1234,"u16":50000,"i32_abcd":-123456789,"i32_cdab":-123456789,"u32_abcd":3000000000,"#
          + #""u32_dcba":3000000000,"f32_abcd":3.2,"f32_cdab":-0.15625,"f32_dcba":1013.25,"u16_swapped":4660,"#
          + #""pressure":3.2,"temperature":-40,"celsius":-0.05,"counter":777,"pump_on":true,"valve_open":true,"#
          + #""alarm":true,"door":true}"#)
      // Holding registers 0-19 in one read (FC 3), the input register (FC 4), coils 0-9 across the gap
      // (FC 1), the discrete input (FC 2): four requests a poll.
      let perPoll = rig.slave.requests(unit: 7).prefix(4).map { [$0.function, UInt8($0.address), UInt8($0.count)] }
      #expect(perPoll == [[3, 0, 20], [4, 100, 1], [1, 0, 10], [2, 5, 1]])
      let status = rig.source.status.slave(7)
      #expect(status?.up == true)
      #expect(status?.errors.isEmpty == true)
      #expect(status?.lastSuccessMs != nil)
      // Counted once committed: every record in the log, no more.
      #expect(rig.source.status.port.records == Int64(records.count))
    }
  }
}

extension SerialPtyTests.ModbusSources {
  static let pressureMap = [RegisterMapEntry(name: "pressure", address: 0, type: .uint16, scale: 0.1, unit: "bar")]

  static func bank(_ value: UInt16) -> SerialModbusTestSlave.Bank {
    var bank = SerialModbusTestSlave.Bank()
    bank.holding[0] = value
    return bank
  }

  @Test func silentSlaveTimesOutWithRetriesThenSingleAttempts() async throws {
    var silent = Self.bank(1)
    silent.silent = true
    let rig = try Self.start(
      banks: [3: silent],
      slaves: [ModbusSlaveConfig(unitId: 3, deviceId: "gone", intervalMs: 100, registers: Self.pressureMap)],
      timeoutMs: 40, retries: 2)
    #expect(await serialWait(5) { (rig.source.status.slave(3)?.failedPolls ?? 0) >= 3 })
    try await rig.finish()
    let status = try #require(rig.source.status.slave(3))
    #expect(status.up == false)
    #expect(status.lastError == "no response from unit 3 within 40 ms")
    // The first poll makes 1 + 2 attempts; once down, one attempt per poll.
    let requests = rig.slave.requests(unit: 3).count
    #expect(requests == 3 + Int(status.failedPolls - 1) || requests == 3 + Int(status.failedPolls))
    #expect(status.errors["timeout"] == Int64(requests) || status.errors["timeout"] == Int64(requests - 1))
    #expect(rig.log.count("telemetry") == 0)
    let labels = [("port", rig.pty.slavePath), ("slave", "3")]
    #expect(rig.metrics.value("weir_modbus_slave_up", labels) == 0)
    #expect((rig.metrics.value("weir_modbus_errors_total", labels + [("kind", "timeout")]) ?? 0) >= 3)
  }

  @Test func exceptionResponseIsDecodedAndNotRetried() async throws {
    let map = Self.pressureMap + [RegisterMapEntry(name: "missing", address: 40, type: .int16)]
    let rig = try Self.start(
      banks: [4: Self.bank(12)],
      slaves: [ModbusSlaveConfig(unitId: 4, deviceId: "pump-4", intervalMs: 50, registers: map)],
      retries: 3)
    #expect(await serialWait(5) { (rig.source.status.slave(4)?.failedPolls ?? 0) >= 2 })
    try await rig.finish()
    let status = try #require(rig.source.status.slave(4))
    #expect(
      status.lastError == "unit 4 answered exception 2 (illegal data address) to function 3 at address 40, count 1")
    #expect(status.errors["exception"] == status.failedPolls)
    #expect(status.errors["timeout"] == nil)
    // Two reads a poll (address 0, then 40 beyond the gap); the exception is not retried.
    let at40 = rig.slave.requests(unit: 4).filter { $0.address == 40 }.count
    #expect(Int64(at40) == status.failedPolls)
    #expect(status.up == true)  // it answers: the map is wrong, not the slave
    #expect(rig.log.count("telemetry") == 0)
  }

  @Test func corruptedCRCIsRetried() async throws {
    var bank = Self.bank(32)
    bank.corruptResponses = 2
    let rig = try Self.start(
      banks: [5: bank],
      slaves: [ModbusSlaveConfig(unitId: 5, deviceId: "pump-5", intervalMs: 100, registers: Self.pressureMap)],
      retries: 2)
    #expect(await serialWait(5) { rig.log.count("telemetry") >= 2 })
    try await rig.finish()
    let status = try #require(rig.source.status.slave(5))
    #expect(status.errors["crc"] == 2)
    #expect(status.failedPolls == 0)
    let records = try rig.log.records("telemetry")
    #expect(records.first?.value == #"{"pressure":3.2}"#)
    let labels = [("port", rig.pty.slavePath), ("slave", "5")]
    #expect(rig.metrics.value("weir_modbus_errors_total", labels + [("kind", "crc")]) == 2)
    #expect(rig.metrics.value("weir_modbus_slave_up", labels) == 1)
  }

  @Test func oneSilentSlaveDoesNotDelayTheOther() async throws {
    var silent = Self.bank(1)
    silent.silent = true
    let rig = try Self.start(
      banks: [1: Self.bank(10), 2: silent],
      slaves: [
        ModbusSlaveConfig(unitId: 1, deviceId: "alive", intervalMs: 100, registers: Self.pressureMap),
        ModbusSlaveConfig(unitId: 2, deviceId: "dead", intervalMs: 100, registers: Self.pressureMap),
      ], timeoutMs: 50, retries: 2)
    try await Task.sleep(for: .milliseconds(2000))
    try await rig.finish()
    let records = try rig.log.records("telemetry")
    #expect(records.allSatisfy { $0.key == "alive" })
    // 2 s at 100 ms: about 20 polls; a dead slave costs one 50 ms timeout per round once down.
    #expect(records.count >= 17, "only \(records.count) polls of the live slave")
    let gaps = zip(records.dropFirst(), records).map { $0.timestamp - $1.timestamp }
    #expect((gaps.max() ?? 0) <= 100 + 150 + 40, "gaps \(gaps)")
    #expect(gaps.filter { $0 > 160 }.count <= 1, "gaps \(gaps)")
    print(
      "serial modbus: live slave polled \(records.count) times in 2 s beside a silent one; gaps \(gaps.min() ?? 0)-\(gaps.max() ?? 0) ms"
    )
    let status = rig.source.status
    #expect(status.slave(1)?.up == true && status.slave(1)?.failedPolls == 0)
    #expect(status.slave(2)?.up == false && (status.slave(2)?.failedPolls ?? 0) >= 10)
    #expect(status.port.up == false)
    #expect(rig.metrics.value("weir_modbus_slave_up", [("port", rig.pty.slavePath), ("slave", "1")]) == 1)
    #expect(rig.metrics.value("weir_modbus_slave_up", [("port", rig.pty.slavePath), ("slave", "2")]) == 0)
  }
}
