import Foundation
import Testing
import WeirCore

@testable import Ingest

@Suite struct SerialConfigTests {
  // Reading these types from the configuration (keys, defaults, spellings, lines) is tested in
  // GatewayTests' SerialModbusConfigTests; here, their own checks and use.
  @Test func validationNamesEveryProblem() {
    var port = SerialPortConfig(
      path: "", baudRate: 12345, dataBits: 9, stopBits: 3, reopenInitialDelayMs: 0, reopenJitter: 2)
    port.deviceId = ""
    #expect(
      port.problems().map(\.description) == [
        "path: the device path is required (e.g. /dev/ttyUSB0)",
        "device_id: must not be empty when given",
        "baud_rate: 12345 is not a rate termios can set; use one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 (or another standard rate)",
        "data_bits: 9 must be 5, 6, 7 or 8",
        "stop_bits: 3 must be 1 or 2",
        "reopen_initial_delay: 0ms must be between 1ms and 1h",
        "reopen_jitter: 2.0 must be between 0 and 1",
      ])
    #expect(
      LineProtocolConfig(format: .csv, topic: "", maxLineLength: 4, keyField: "", delimiter: "ab").problems().map(
        \.description) == [
          "topic: must not be empty",
          "max_line_length: 4 must be between 16 and 1048576",
          "key_field: must not be empty when given",
          "columns: a CSV source needs either csv_header: true or a list of columns",
          "delimiter: 'ab' must be one ASCII character other than a quote or a line end",
        ])
    #expect(
      LineProtocolConfig(format: .nmea, columns: [CSVColumn("a")], nmeaSentences: ["GGA", "gga"]).problems().map(
        \.description) == [
          "columns: only used with format: csv",
          "nmea_sentences: 'gga' is not a sentence type such as GGA or RMC",
        ])
    #expect(
      LineProtocolConfig(format: .csv, columns: [CSVColumn("a"), CSVColumn("a")]).problems().map(\.description) == [
        "columns[1].name: 'a' appears twice"
      ])

    let modbus = ModbusConfig(
      port: SerialPortConfig(path: "/dev/ttyS0", dataBits: 7, flowControl: .xonXoff), responseTimeoutMs: 0, retries: 11,
      slaves: [
        ModbusSlaveConfig(
          unitId: 0, deviceId: "", intervalMs: 5,
          registers: [
            RegisterMapEntry(name: "a", address: 65535, type: .int32),
            RegisterMapEntry(name: "a", table: .coil, address: 1, type: .uint16),
            RegisterMapEntry(name: "", address: 1, type: .bool, scale: 0),
          ]),
        ModbusSlaveConfig(unitId: 0, deviceId: "x", registers: [], maxRegistersPerRead: 200),
      ])
    #expect(
      modbus.problems().map(\.description) == [
        "port.flow_control: xon_xoff would eat 0x11 and 0x13 bytes of binary Modbus frames; use none or rts_cts",
        "port.data_bits: Modbus RTU needs 8 data bits, not 7",
        "response_timeout: 0ms must be between 1ms and 60s",
        "retries: 11 must be between 0 and 10",
        "slaves[0].unit_id: 0 must be between 1 and 247",
        "slaves[0].device_id: required (it keys the slave's records)",
        "slaves[0].interval: 5ms must be between 10ms and 1d",
        "slaves[0].registers[0].address: 65535 must be between 0 and 65534 for a int32",
        "slaves[0].registers[1].type: a coil holds one bit; its type must be bool, not uint16",
        "slaves[0].registers[1].name: 'a' appears twice",
        "slaves[0].registers[2].name: must not be empty",
        "slaves[0].registers[2].type: bool is only for coils and discrete inputs; a register is int16, uint16, int32, uint32 or float32",
        "slaves[0].registers[2].scale: 0.0 must be a finite number other than 0",
        "slaves[1].unit_id: 0 must be between 1 and 247",
        "slaves[1].registers: at least one entry is required",
        "slaves[1].max_registers_per_read: 200 must be between 1 and 125",
        "slaves[1].unit_id: 0 appears twice",
      ])
    // The key is the whole path below the configuration, the message only the sentence.
    #expect(
      modbus.problems()[7]
        == ConfigIssue(key: "slaves[0].registers[0].address", "65535 must be between 0 and 65534 for a int32"))
  }

  @Test func sourcesRefuseInvalidConfiguration() throws {
    let log = try SerialTestLog()
    #expect(throws: SerialError.self) {
      _ = try SerialLineSource(
        port: SerialPortConfig(path: "/dev/null", baudRate: 1), lineProtocol: LineProtocolConfig(format: .nmea),
        store: log.store)
    }
    do {
      _ = try ModbusSource(config: ModbusConfig(port: SerialPortConfig(path: "/dev/x"), slaves: []), store: log.store)
      Issue.record("an empty slave list must be refused")
    } catch {
      #expect(error.code == .invalidConfiguration)
      #expect(error.message == "modbus source /dev/x: slaves: at least one slave is required")
    }
  }

  @Test func termiosSettings() throws {
    var config = SerialPortConfig(
      path: "/dev/x", baudRate: 921_600, dataBits: 7, parity: .odd, stopBits: 2, flowControl: .rtsCts)
    let t = try SerialPort.rawAttributes(config, current: termios())
    #expect(cfgetispeed([t]) == speed_t(B921600) && cfgetospeed([t]) == speed_t(B921600))
    #expect(t.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS7))
    #expect(t.c_cflag & tcflag_t(PARENB) != 0 && t.c_cflag & tcflag_t(PARODD) != 0)
    #expect(t.c_cflag & tcflag_t(CSTOPB) != 0 && t.c_cflag & tcflag_t(CRTSCTS) != 0)
    #expect(t.c_iflag & tcflag_t(INPCK) != 0 && t.c_iflag & tcflag_t(IXON) == 0)
    #expect(t.c_lflag & tcflag_t(ICANON) == 0 && t.c_lflag & tcflag_t(ECHO) == 0)
    config = SerialPortConfig(path: "/dev/x", baudRate: 9600, flowControl: .xonXoff)
    let x = try SerialPort.rawAttributes(config, current: t)
    #expect(x.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8) && x.c_cflag & tcflag_t(PARENB) == 0)
    #expect(x.c_cflag & tcflag_t(CSTOPB) == 0 && x.c_cflag & tcflag_t(CRTSCTS) == 0)
    #expect(x.c_iflag & tcflag_t(IXON) != 0 && x.c_iflag & tcflag_t(IXOFF) != 0)
    #expect(cfgetispeed([x]) == speed_t(B9600))
    for rate in SerialPortConfig.supportedBaudRates { #expect(SerialPort.baudConstant(rate) != nil) }
    #expect(SerialPort.baudConstant(12345) == nil)
  }

  @Test func openingSomethingThatIsNotATerminal() {
    do {
      _ = try SerialPort(config: SerialPortConfig(path: "/dev/null"))
      Issue.record("/dev/null is not a terminal")
    } catch {
      #expect(error.code == .unsupported)
    }
    do {
      _ = try SerialPort(config: SerialPortConfig(path: "/dev/ttyWEIR-does-not-exist"))
      Issue.record("the device does not exist")
    } catch {
      #expect(error.code == .deviceGone)
      #expect(error.errno == ENOENT)
      #expect(error.description == "open /dev/ttyWEIR-does-not-exist: No such file or directory (errno 2)")
    }
  }

  @Test func backoffDoublesToTheMaximumWithJitter() {
    var backoff = Backoff(initialMs: 100, maxMs: 1000, jitter: 0.2)
    #expect((0..<6).map { _ in backoff.nextDelayMs(random: 0) } == [100, 200, 400, 800, 1000, 1000])
    backoff.reset()
    #expect(backoff.nextDelayMs(random: 0.999) == 80)
    #expect(backoff.nextDelayMs(random: 0.5) == 180)
    var none = Backoff(initialMs: 50, maxMs: 50, jitter: 0)
    #expect(none.nextDelayMs(random: 0.9) == 50)
    var huge = Backoff(initialMs: 1, maxMs: Int.max, jitter: 0)
    for _ in 0..<100 { #expect(huge.nextDelayMs(random: 0) > 0) }
  }
}
