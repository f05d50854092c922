import Gateway
import Ingest
import Testing
import WeirCore

/// The `serial:` and `modbus:` sections, read by `ConfigReader` like the rest of the file: the keys,
/// defaults, spellings and bounds of docs/serial.md, and every problem at the line of its key.
@Suite struct SerialModbusConfigTests {
  static func parse(_ body: String) throws -> GatewayConfig {
    try GatewayConfig.parse("gateway: {id: gw-1}\n" + body, file: "s.yaml")
  }

  /// The problems of `gateway: {id: gw-1}` and `body` (whose first line is line 2), as printed.
  static func problems(_ body: String) -> [String] {
    do {
      _ = try parse(body)
      return []
    } catch let error as ConfigError {
      return error.problems.map(\.description)
    } catch {
      return ["\(error)"]
    }
  }

  @Test func defaultsWhenKeysAreMissing() throws {
    let config = try Self.parse(
      """
      serial:
        - port: {path: /dev/ttyUSB0}
          line_protocol: {format: nmea}
      modbus:
        - port: {path: /dev/ttyS1, baud_rate: 19200, parity: even}
          slaves:
            - unit_id: 3
              device_id: p
              registers: [{name: x, address: 4}, {name: c, table: coil, address: 1}]
      """)
    let port = config.serialSources[0].port
    #expect(port == SerialPortConfig(path: "/dev/ttyUSB0"))
    #expect(port.deviceId == nil && port.baudRate == 9600 && port.dataBits == 8 && port.parity == .none)
    #expect(port.stopBits == 1 && port.flowControl == .none && port.exclusive && port.reopenJitter == 0.2)
    #expect(port.reopenInitialDelayMs == 500 && port.reopenMaxDelayMs == 30_000)

    let lines = config.serialSources[0].lineProtocol
    #expect(lines == LineProtocolConfig(format: .nmea))
    #expect(lines.topic == "telemetry" && lines.maxLineLength == 4096 && lines.timestampMissing == .deadLetter)
    #expect(lines.terminator == .lf && lines.timestampUnit == .milliseconds && lines.timeRange == .standard)
    #expect(!lines.csvHeader && lines.columns.isEmpty && lines.delimiter == "," && lines.nmeaRequireChecksum)
    #expect(lines.keyField == nil && lines.timestampField == nil && lines.nmeaSentences == nil)

    let modbus = config.modbusSources[0]
    #expect(modbus.port == SerialPortConfig(path: "/dev/ttyS1", baudRate: 19200, parity: .even))
    #expect(modbus.topic == "telemetry" && modbus.responseTimeoutMs == 500 && modbus.retries == 2)
    #expect(modbus.interFrameDelayUs == nil)
    let slave = modbus.slaves[0]
    #expect(slave.unitId == 3 && slave.deviceId == "p" && slave.topic == nil)
    #expect(slave.intervalMs == 1000 && slave.maxGap == 0 && slave.maxRegistersPerRead == 125)
    #expect(slave.registers[0] == RegisterMapEntry(name: "x", address: 4))
    #expect(slave.registers[0].type == .uint16 && slave.registers[0].scale == 1 && slave.registers[0].offset == 0)
    #expect(slave.registers[0].wordOrder == .big && slave.registers[0].byteOrder == .big)
    #expect(slave.registers[0].unit == nil && slave.registers[0].decimals == nil)
    #expect(slave.registers[1].table == .coil && slave.registers[1].type == .bool)
    #expect(modbus.problems().isEmpty)
    #expect(config.warnings.isEmpty)
  }

  @Test func everyKeyIsRead() throws {
    let config = try Self.parse(
      """
      serial:
        - port:
            path: /dev/ttyUSB0
            device_id: gps-1
            baud_rate: 921600
            data_bits: 7
            parity: odd
            stop_bits: 2
            flow_control: rts_cts
            exclusive: false
            reopen_initial_delay: 250ms
            reopen_max_delay: 2m
            reopen_jitter: 0
          line_protocol:
            format: csv
            topic: t
            max_line_length: 100
            terminator: cr
            key_field: k
            timestamp_field: ts
            timestamp_unit: s
            timestamp_missing: read_time
            time_min: 2020-01-01T00:00:00Z
            time_max: 1700000000000
            csv_header: true
            columns: [{name: a, type: int}, {name: b}]
            delimiter: ";"
            nmea_require_checksum: false
      modbus:
        - port: {path: /dev/ttyS1}
          topic: plant
          response_timeout: 1.5s
          retries: 0
          inter_frame_delay_us: 2000
          slaves:
            - unit_id: 247
              device_id: pump-1
              interval: 10m
              topic: pumps
              max_gap: 4
              max_registers_per_read: 60
              registers:
                - name: p
                  table: input_register
                  address: 7
                  type: float32
                  word_order: little
                  byte_order: little
                  scale: 0.5
                  offset: -1
                  unit: bar
                  decimals: 2
      """)
    #expect(
      config.serialSources[0].port
        == SerialPortConfig(
          path: "/dev/ttyUSB0", deviceId: "gps-1", baudRate: 921_600, dataBits: 7, parity: .odd, stopBits: 2,
          flowControl: .rtsCts, exclusive: false, reopenInitialDelayMs: 250, reopenMaxDelayMs: 120_000, reopenJitter: 0)
    )
    #expect(
      config.serialSources[0].lineProtocol
        == LineProtocolConfig(
          format: .csv, topic: "t", maxLineLength: 100, terminator: .cr, keyField: "k", timestampField: "ts",
          timestampUnit: .seconds, timestampMissing: .readTime,
          timeRange: EventTimeRange(earliestMs: 1_577_836_800_000, latestMs: 1_700_000_000_000), csvHeader: true,
          columns: [CSVColumn("a", .int), CSVColumn("b", .auto)], delimiter: ";", nmeaRequireChecksum: false))
    #expect(
      config.modbusSources[0]
        == ModbusConfig(
          port: SerialPortConfig(path: "/dev/ttyS1"), topic: "plant", responseTimeoutMs: 1500, retries: 0,
          interFrameDelayUs: 2000,
          slaves: [
            ModbusSlaveConfig(
              unitId: 247, deviceId: "pump-1", intervalMs: 600_000, topic: "pumps",
              registers: [
                RegisterMapEntry(
                  name: "p", table: .inputRegister, address: 7, type: .float32, wordOrder: .little, byteOrder: .little,
                  scale: 0.5, offset: -1, unit: "bar", decimals: 2)
              ], maxGap: 4, maxRegistersPerRead: 60)
          ]))
    let nmea = try Self.parse(
      "serial:\n  - port: {path: /dev/x}\n    line_protocol: {format: nmea, nmea_sentences: [GGA, RMC]}\n")
    #expect(nmea.serialSources[0].lineProtocol.nmeaSentences == ["GGA", "RMC"])
  }

  static func port(_ key: String, _ value: String) throws -> SerialPortConfig {
    try parse("serial:\n  - port: {path: /dev/x, \(key): \(value)}\n    line_protocol: {format: nmea}\n")
      .serialSources[0].port
  }

  static func lines(_ keys: String) throws -> LineProtocolConfig {
    try parse("serial:\n  - port: {path: /dev/x}\n    line_protocol: {\(keys)}\n").serialSources[0].lineProtocol
  }

  static func entry(_ keys: String) throws -> RegisterMapEntry {
    try parse(
      "modbus:\n  - port: {path: /dev/x}\n    slaves: [{unit_id: 1, device_id: d, registers: [{name: v, address: 0, \(keys)}]}]\n"
    ).modbusSources[0].slaves[0].registers[0]
  }

  /// Every spelling of every choice, as docs/serial.md writes it.
  @Test func everyEnumSpellingIsRead() throws {
    for p in SerialPortConfig.Parity.allCases { #expect(try Self.port("parity", p.rawValue).parity == p) }
    for f in SerialPortConfig.FlowControl.allCases {
      #expect(try Self.port("flow_control", f.rawValue).flowControl == f)
    }
    #expect(SerialPortConfig.Parity.allCases.map(\.rawValue) == ["none", "even", "odd", "mark", "space"])
    #expect(SerialPortConfig.FlowControl.allCases.map(\.rawValue) == ["none", "rts_cts", "xon_xoff"])

    typealias Lines = LineProtocolConfig
    for f in Lines.Format.allCases {
      #expect(try Self.lines("format: \(f.rawValue), csv_header: \(f == .csv)").format == f)
    }
    for t in Lines.Terminator.allCases {
      #expect(try Self.lines("format: nmea, terminator: \(t.rawValue)").terminator == t)
    }
    for u in Lines.TimestampUnit.allCases {
      #expect(try Self.lines("format: nmea, timestamp_unit: \(u.rawValue)").timestampUnit == u)
    }
    for m in Lines.MissingTimestamp.allCases {
      #expect(try Self.lines("format: nmea, timestamp_missing: \(m.rawValue)").timestampMissing == m)
    }
    for c in CSVColumn.ColumnType.allCases {
      #expect(try Self.lines("format: csv, columns: [{name: a, type: \(c.rawValue)}]").columns == [CSVColumn("a", c)])
    }
    #expect(Lines.Format.allCases.map(\.rawValue) == ["nmea", "csv", "json_lines"])
    #expect(Lines.Terminator.allCases.map(\.rawValue) == ["lf", "cr"])
    #expect(Lines.TimestampUnit.allCases.map(\.rawValue) == ["s", "ms", "us", "ns"])
    #expect(Lines.MissingTimestamp.allCases.map(\.rawValue) == ["dead_letter", "read_time"])
    #expect(CSVColumn.ColumnType.allCases.map(\.rawValue) == ["int", "float", "string", "bool", "auto"])

    typealias Entry = RegisterMapEntry
    for t in Entry.Table.allCases { #expect(try Self.entry("table: \(t.rawValue)").table == t) }
    for v in Entry.ValueType.allCases {
      #expect(try Self.entry("table: \(v == .bool ? "coil" : "holding_register"), type: \(v.rawValue)").type == v)
    }
    for o in Entry.Order.allCases {
      let entry = try Self.entry("word_order: \(o.rawValue), byte_order: \(o.rawValue)")
      #expect(entry == Entry(name: "v", address: 0, wordOrder: o, byteOrder: o))
    }
    #expect(Entry.Table.allCases.map(\.rawValue) == ["holding_register", "input_register", "coil", "discrete_input"])
    #expect(Entry.ValueType.allCases.map(\.rawValue) == ["int16", "uint16", "int32", "uint32", "float32", "bool"])
    #expect(Entry.Order.allCases.map(\.rawValue) == ["big", "little"])
  }

  @Test func valuesOfTheWrongKindAtTheirLine() {
    #expect(
      Self.problems(
        """
        serial:
          - port:
              path: [a]
              baud_rate: fast
              parity: sometimes
              exclusive: maybe
              reopen_jitter: lots
              reopen_initial_delay: soon
            line_protocol:
              format: morse
              columns: a
              nmea_sentences: [[GGA]]
              time_min: last tuesday
        modbus:
          - port: {path: /dev/ttyS1, baud_rate: 1:1:1:1:1:1:1:1:1:1:1:1, reopen_max_delay: 1:30}
            retries: some
            slaves:
              - {unit_id: one, device_id: p, registers: [{name: x, address: 0x10, scale: .inf}]}
        """) == [
          "s.yaml:4: serial[0].port.path: expected a text value, got a list",
          "s.yaml:5: serial[0].port.baud_rate: expected a whole number, got 'fast'",
          "s.yaml:6: serial[0].port.parity: expected one of none, even, odd, mark, space, got 'sometimes'",
          "s.yaml:7: serial[0].port.exclusive: expected true or false, got 'maybe'",
          "s.yaml:8: serial[0].port.reopen_jitter: expected a number, got 'lots'",
          "s.yaml:9: serial[0].port.reopen_initial_delay: expected a duration such as 500ms, 30s, 10m, 2h or 7d, got 'soon'",
          "s.yaml:11: serial[0].line_protocol.format: expected one of nmea, csv, json_lines, got 'morse'",
          "s.yaml:12: serial[0].line_protocol.columns: expected a list, got the value 'a'",
          "s.yaml:13: serial[0].line_protocol.nmea_sentences[0]: expected a sentence type such as GGA, got a list",
          "s.yaml:14: serial[0].line_protocol.time_min: expected an RFC 3339 instant such as 2000-01-01T00:00:00Z or epoch milliseconds, got 'last tuesday'",
          // `1:30` is text to the reader, never a YAML 1.1 base-60 number.
          "s.yaml:16: modbus[0].port.baud_rate: expected a whole number, got '1:1:1:1:1:1:1:1:1:1:1:1'",
          "s.yaml:16: modbus[0].port.reopen_max_delay: expected a duration such as 500ms, 30s, 10m, 2h or 7d, got '1:30'",
          "s.yaml:17: modbus[0].retries: expected a whole number, got 'some'",
          "s.yaml:19: modbus[0].slaves[0].unit_id: expected a whole number, got 'one'",
          "s.yaml:19: modbus[0].slaves[0].registers[0].address: expected a whole number, got '0x10'",
          "s.yaml:19: modbus[0].slaves[0].registers[0].scale: expected a number, got '.inf'",
        ])
  }

  @Test func unknownAndMissingKeysAtTheirLine() {
    let problems = Self.problems(
      """
      serial:
        - port: {path: /dev/ttyUSB0, colour: red}
          line_protocol:
            format: csv
            columns: [{name: a, width: 3}, {type: int}]
            framing: lines
          extra: 1
        - port: {path: /dev/ttyUSB1}
          line_protocol: {topic: t}
      modbus:
        - slaves:
            - device_id: p
              registers: [{name: x, adress: 3}]
          typo: 1
      """)
    for expected in [
      "s.yaml:3: serial[0].port.colour: unknown key",
      "s.yaml:6: serial[0].line_protocol.columns[0].width: unknown key",
      "s.yaml:6: serial[0].line_protocol.columns[1].name: missing: the column's field name",
      "s.yaml:7: serial[0].line_protocol.framing: unknown key",
      "s.yaml:8: serial[0].extra: unknown key",
      "s.yaml:10: serial[1].line_protocol.format: missing: the line format, one of nmea, csv, json_lines",
      "s.yaml:12: modbus[0].port: missing: the serial line (path, baud_rate, parity...) of the bus",
      "s.yaml:13: modbus[0].slaves[0].unit_id: missing: the slave address, 1 to 247",
      "s.yaml:14: modbus[0].slaves[0].registers[0].adress: unknown key",
      "s.yaml:14: modbus[0].slaves[0].registers[0].address: missing: the protocol address, 0-based (register 40001 is 0)",
      "s.yaml:15: modbus[0].typo: unknown key",
    ] {
      #expect(problems.contains { $0.hasPrefix(expected) }, "missing '\(expected)' in \(problems)")
    }
    #expect(problems.count == 11, "\(problems)")
    // Keys that problems() requires, left out: its messages, at the section's line.
    #expect(
      Self.problems(
        "serial:\n  - port: {baud_rate: 9600}\n    line_protocol: {format: nmea}\nmodbus:\n  - port: {path: /dev/x}\n    slaves: [{unit_id: 1}]\n"
      ) == [
        "s.yaml:3: serial[0].port.path: the device path is required (e.g. /dev/ttyUSB0)",
        "s.yaml:7: modbus[0].slaves[0].device_id: required (it keys the slave's records)",
        "s.yaml:7: modbus[0].slaves[0].registers: at least one entry is required",
      ])
    #expect(
      Self.problems("modbus:\n  - port: {path: /dev/x}\n    topic: t\n") == [
        "s.yaml:3: modbus[0].slaves: at least one slave is required"
      ])
  }

  @Test func validationProblemsAtTheLineOfTheirKey() {
    #expect(
      Self.problems(
        """
        serial:
          - port:
              path: ""
              device_id: ""
              baud_rate: 12345
              data_bits: 9
              stop_bits: 3
              reopen_initial_delay: 0ms
              reopen_jitter: 2
            line_protocol:
              format: csv
              topic: ""
              max_line_length: 4
              key_field: ""
              delimiter: ab
          - port: {path: /dev/x}
            line_protocol:
              format: nmea
              columns: [{name: a}]
              nmea_sentences: [GGA, gga]
          - port: {path: /dev/x, reopen_initial_delay: 2s, reopen_max_delay: 1s}
            line_protocol: {format: csv, columns: [{name: a}, {name: a}], time_min: 2001-01-01T00:00:00Z, time_max: 1000}
        """) == [
          "s.yaml:4: serial[0].port.path: the device path is required (e.g. /dev/ttyUSB0)",
          "s.yaml:5: serial[0].port.device_id: must not be empty when given",
          "s.yaml:6: serial[0].port.baud_rate: 12345 is not a rate termios can set; use one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 (or another standard rate)",
          "s.yaml:7: serial[0].port.data_bits: 9 must be 5, 6, 7 or 8",
          "s.yaml:8: serial[0].port.stop_bits: 3 must be 1 or 2",
          "s.yaml:9: serial[0].port.reopen_initial_delay: 0ms must be between 1ms and 1h",
          "s.yaml:10: serial[0].port.reopen_jitter: 2.0 must be between 0 and 1",
          // A key left out is reported at its section's first line.
          "s.yaml:12: serial[0].line_protocol.columns: a CSV source needs either csv_header: true or a list of columns",
          "s.yaml:13: serial[0].line_protocol.topic: must not be empty",
          "s.yaml:14: serial[0].line_protocol.max_line_length: 4 must be between 16 and 1048576",
          "s.yaml:15: serial[0].line_protocol.key_field: must not be empty when given",
          "s.yaml:16: serial[0].line_protocol.delimiter: 'ab' must be one ASCII character other than a quote or a line end",
          "s.yaml:20: serial[1].line_protocol.columns: only used with format: csv",
          "s.yaml:21: serial[1].line_protocol.nmea_sentences: 'gga' is not a sentence type such as GGA or RMC",
          "s.yaml:22: serial[2].port.reopen_max_delay: 1s must be at least reopen_initial_delay (2s)",
          "s.yaml:23: serial[2].line_protocol.time_min: 2001-01-01T00:00:00Z is after time_max (1970-01-01T00:00:01Z)",
          "s.yaml:23: serial[2].line_protocol.columns[1].name: 'a' appears twice",
        ])
    #expect(
      Self.problems(
        """
        modbus:
          - port: {path: /dev/ttyS0, data_bits: 7, flow_control: xon_xoff, reopen_initial_delay: 2h}
            response_timeout: 0ms
            retries: 11
            inter_frame_delay_us: -1
            slaves:
              - unit_id: 0
                device_id: ""
                interval: 5ms
                registers:
                  - {name: a, address: 65535, type: int32}
                  - {name: a, table: coil, address: 1, type: uint16}
                  - {name: "", address: 1, type: bool, scale: 0, decimals: 16}
              - {unit_id: 0, device_id: x, registers: [], max_registers_per_read: 200, max_gap: -1, topic: ""}
              - {unit_id: 2, device_id: y, interval: 2d, registers: [{name: b, address: 9223372036854775807}]}
        """) == [
          "s.yaml:3: modbus[0].port.reopen_initial_delay: 2h must be between 1ms and 1h",
          // reopen_max_delay left at its default (30s), reported at the port's line.
          "s.yaml:3: modbus[0].port.reopen_max_delay: 30s must be at least reopen_initial_delay (2h)",
          "s.yaml:3: modbus[0].port.flow_control: xon_xoff would eat 0x11 and 0x13 bytes of binary Modbus frames; use none or rts_cts",
          "s.yaml:3: modbus[0].port.data_bits: Modbus RTU needs 8 data bits, not 7",
          "s.yaml:4: modbus[0].response_timeout: 0ms must be between 1ms and 60s",
          "s.yaml:5: modbus[0].retries: 11 must be between 0 and 10",
          "s.yaml:6: modbus[0].inter_frame_delay_us: -1 must be between 0 and 1000000",
          "s.yaml:8: modbus[0].slaves[0].unit_id: 0 must be between 1 and 247",
          "s.yaml:9: modbus[0].slaves[0].device_id: required (it keys the slave's records)",
          "s.yaml:10: modbus[0].slaves[0].interval: 5ms must be between 10ms and 1d",
          "s.yaml:12: modbus[0].slaves[0].registers[0].address: 65535 must be between 0 and 65534 for a int32",
          "s.yaml:13: modbus[0].slaves[0].registers[1].type: a coil holds one bit; its type must be bool, not uint16",
          "s.yaml:13: modbus[0].slaves[0].registers[1].name: 'a' appears twice",
          "s.yaml:14: modbus[0].slaves[0].registers[2].name: must not be empty",
          "s.yaml:14: modbus[0].slaves[0].registers[2].type: bool is only for coils and discrete inputs; a register is int16, uint16, int32, uint32 or float32",
          "s.yaml:14: modbus[0].slaves[0].registers[2].scale: 0.0 must be a finite number other than 0",
          "s.yaml:14: modbus[0].slaves[0].registers[2].decimals: 16 must be between 0 and 15",
          "s.yaml:15: modbus[0].slaves[1].unit_id: 0 must be between 1 and 247",
          "s.yaml:15: modbus[0].slaves[1].topic: must not be empty when given",
          "s.yaml:15: modbus[0].slaves[1].registers: at least one entry is required",
          "s.yaml:15: modbus[0].slaves[1].max_gap: -1 must not be negative",
          "s.yaml:15: modbus[0].slaves[1].max_registers_per_read: 200 must be between 1 and 125",
          "s.yaml:15: modbus[0].slaves[1].unit_id: 0 appears twice",
          "s.yaml:16: modbus[0].slaves[2].interval: 2d must be between 10ms and 1d",
          "s.yaml:16: modbus[0].slaves[2].registers[0].address: 9223372036854775807 must be between 0 and 65535 for a uint16",
        ])
  }

  @Test func eventTimeRange() throws {
    func range(_ keys: String) throws -> EventTimeRange {
      try Self.parse("serial:\n  - port: {path: /dev/x}\n    line_protocol: {format: nmea\(keys)}\n").serialSources[0]
        .lineProtocol.timeRange
    }
    #expect(try range("") == .standard)
    #expect(
      try range(", time_min: 2020-01-01T00:00:00Z, time_max: 1700000000000")
        == EventTimeRange(earliestMs: 1_577_836_800_000, latestMs: 1_700_000_000_000))
    #expect(try range(", time_max: \"4102444800000\"") == .standard)
    #expect(try range(", time_min: 0, time_max: 2000-01-01T00:00:00.250Z").latestMs == 946_684_800_250)
  }

  @Test func durationsTakeUnitsAndTheOldMsKeysWarn() throws {
    let config = try Self.parse(
      """
      modbus:
        - port: {path: /dev/ttyS1, reopen_max_delay_ms: 45000}
          response_timeout: 250ms
          slaves:
            - unit_id: 1
              device_id: p
              interval_ms: 2000
              registers: [{name: x, address: 0}]
      """)
    #expect(config.modbusSources[0].port.reopenMaxDelayMs == 45_000)
    #expect(config.modbusSources[0].responseTimeoutMs == 250)
    #expect(config.modbusSources[0].slaves[0].intervalMs == 2000)
    #expect(
      config.warnings.map(\.description) == [
        "s.yaml:3: modbus[0].port.reopen_max_delay_ms: deprecated: write reopen_max_delay with a unit (e.g. reopen_max_delay: 45000ms); the _ms keys are read for one more release",
        "s.yaml:8: modbus[0].slaves[0].interval_ms: deprecated: write interval with a unit (e.g. interval: 2000ms); the _ms keys are read for one more release",
      ])
    #expect(
      Self.problems(
        """
        modbus:
          - port: {path: /dev/ttyS1}
            response_timeout: 1s
            response_timeout_ms: 1000
            slaves:
              - {unit_id: 1, device_id: p, interval_ms: soon, registers: [{name: x, address: 0}]}
        """) == [
          "s.yaml:5: modbus[0].response_timeout_ms: give response_timeout (a duration such as 500ms) or the older response_timeout_ms, not both",
          "s.yaml:7: modbus[0].slaves[0].interval_ms: expected a whole number, got 'soon'",
        ])
  }
}
