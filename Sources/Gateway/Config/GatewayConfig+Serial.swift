import Foundation
import Ingest
import WeirCore
import Yams

/// The serial and Modbus sections, read key by key like every other section (docs/serial.md lists
/// the keys). The types' bounds and cross-field checks stay in their `problems()`
/// (`ConfigValidating`), each reported at the line of the key it names.
///
/// Every key of a section is read and every problem reported, but a section with a problem of its
/// own or in a section within is not built, and `problems()` runs only on what was read cleanly (on
/// a half-read value it would only add noise). A key left out that `problems()` requires (`path`,
/// `device_id`, `slaves`, `registers`) is left empty for it to report.
extension GatewayConfig {
  /// `serial:` entries: `port` and `line_protocol`.
  static func serialSource(_ reader: ConfigReader, _ node: Node, path: String) -> SerialSourceConfig? {
    guard var s = reader.section(node, path: path) else { return nil }
    let portNode = reader.value(&s, "port")
    let protocolNode = reader.value(&s, "line_protocol")
    reader.finish(s)
    guard let portNode, let protocolNode else {
      reader.problem(node, path, "a serial source needs 'port:' and 'line_protocol:' sections")
      return nil
    }
    let port = serialPort(reader, portNode, path: path + ".port")
    let line = lineProtocol(reader, protocolNode, path: path + ".line_protocol")
    guard let port, let line else { return nil }
    reader.report(port.problems(), in: portNode, path: path + ".port")
    reader.report(line.problems(), in: protocolNode, path: path + ".line_protocol")
    return SerialSourceConfig(port: port, lineProtocol: line)
  }

  /// A `port:` section of a serial or Modbus source. A missing `path` is left empty for
  /// `problems()` to report.
  static func serialPort(_ reader: ConfigReader, _ node: Node, path: String) -> SerialPortConfig? {
    reader.readSection(node, path: path) { s in
      typealias Port = SerialPortConfig
      var port = Port(path: reader.string(&s, "path") ?? "", deviceId: reader.string(&s, "device_id"))
      if let v = reader.wholeNumber(&s, "baud_rate") { port.baudRate = v }
      if let v = reader.wholeNumber(&s, "data_bits") { port.dataBits = v }
      if let v = reader.choice(&s, "parity", Port.Parity.self, allowed: Port.Parity.allCases) { port.parity = v }
      if let v = reader.wholeNumber(&s, "stop_bits") { port.stopBits = v }
      if let v = reader.choice(&s, "flow_control", Port.FlowControl.self, allowed: Port.FlowControl.allCases) {
        port.flowControl = v
      }
      if let v = reader.bool(&s, "exclusive") { port.exclusive = v }
      if let v = reader.durationOrLegacyMs(&s, "reopen_initial_delay") { port.reopenInitialDelayMs = v }
      if let v = reader.durationOrLegacyMs(&s, "reopen_max_delay") { port.reopenMaxDelayMs = v }
      if let v = reader.number(&s, "reopen_jitter") { port.reopenJitter = v }
      return port
    }
  }

  /// A `line_protocol:` section: `format` (required), framing, key, event time, CSV and NMEA keys.
  static func lineProtocol(_ reader: ConfigReader, _ node: Node, path: String) -> LineProtocolConfig? {
    reader.readSection(node, path: path) { s in
      typealias Lines = LineProtocolConfig
      let format = reader.choice(&s, "format", Lines.Format.self, allowed: Lines.Format.allCases)
      var line = Lines(format: format ?? .jsonLines)
      if let v = reader.string(&s, "topic") { line.topic = v }
      if let v = reader.wholeNumber(&s, "max_line_length") { line.maxLineLength = v }
      if let v = reader.choice(&s, "terminator", Lines.Terminator.self, allowed: Lines.Terminator.allCases) {
        line.terminator = v
      }
      line.keyField = reader.string(&s, "key_field")
      line.timestampField = reader.string(&s, "timestamp_field")
      if let v = reader.choice(&s, "timestamp_unit", Lines.TimestampUnit.self, allowed: Lines.TimestampUnit.allCases) {
        line.timestampUnit = v
      }
      if let v = reader.choice(
        &s, "timestamp_missing", Lines.MissingTimestamp.self, allowed: Lines.MissingTimestamp.allCases)
      {
        line.timestampMissing = v
      }
      if let v = instant(reader, &s, "time_min", path: path) { line.timeRange.earliestMs = v }
      if let v = instant(reader, &s, "time_max", path: path) { line.timeRange.latestMs = v }
      if let v = reader.bool(&s, "csv_header") { line.csvHeader = v }
      for (i, c) in (reader.sequence(&s, "columns") ?? []).enumerated() {
        if let column = csvColumn(reader, c, path: path + ".columns[\(i)]") { line.columns.append(column) }
      }
      if let v = reader.string(&s, "delimiter") { line.delimiter = v }
      if let v = reader.bool(&s, "nmea_require_checksum") { line.nmeaRequireChecksum = v }
      if let sentences = reader.sequence(&s, "nmea_sentences") {
        line.nmeaSentences = []
        for (i, n) in sentences.enumerated() {
          if let text = n.scalar?.string {
            line.nmeaSentences?.append(text)
          } else {
            reader.problem(
              n, path + ".nmea_sentences[\(i)]", "expected a sentence type such as GGA, got \(ConfigReader.kind(n))")
          }
        }
      }
      if s.entries["format"] == nil {
        let formats = Lines.Format.allCases.map(\.rawValue).joined(separator: ", ")
        reader.problem(node, path + ".format", "missing: the line format, one of \(formats)")
      }
      return line
    }
  }

  /// A `columns:` entry: `name` (required) and `type`.
  static func csvColumn(_ reader: ConfigReader, _ node: Node, path: String) -> CSVColumn? {
    reader.readSection(node, path: path) { s in
      let column = CSVColumn(
        reader.string(&s, "name") ?? "",
        reader.choice(&s, "type", CSVColumn.ColumnType.self, allowed: CSVColumn.ColumnType.allCases) ?? .auto)
      if s.entries["name"] == nil { reader.problem(node, path + ".name", "missing: the column's field name") }
      return column
    }
  }

  /// `modbus:` entries: `port`, `topic`, `response_timeout`, `retries`, `inter_frame_delay_us` and
  /// `slaves`.
  static func modbusSource(_ reader: ConfigReader, _ node: Node, path: String) -> ModbusConfig? {
    let config = reader.readSection(node, path: path) { s in
      let portNode = reader.value(&s, "port")
      let port = portNode.flatMap { serialPort(reader, $0, path: path + ".port") }
      var config = ModbusConfig(port: port ?? SerialPortConfig(path: ""), slaves: [])
      if let v = reader.string(&s, "topic") { config.topic = v }
      if let v = reader.durationOrLegacyMs(&s, "response_timeout") { config.responseTimeoutMs = v }
      if let v = reader.wholeNumber(&s, "retries") { config.retries = v }
      config.interFrameDelayUs = reader.wholeNumber(&s, "inter_frame_delay_us")
      for (i, n) in (reader.sequence(&s, "slaves") ?? []).enumerated() {
        if let slave = modbusSlave(reader, n, path: path + ".slaves[\(i)]") { config.slaves.append(slave) }
      }
      if portNode == nil {
        reader.problem(node, path + ".port", "missing: the serial line (path, baud_rate, parity...) of the bus")
      }
      return config
    }
    guard let config else { return nil }
    reader.report(config.problems(), in: node, path: path)
    return config
  }

  /// A `slaves:` entry: `unit_id` (required), `device_id`, `interval`, `topic`, `registers`,
  /// `max_gap` and `max_registers_per_read`.
  static func modbusSlave(_ reader: ConfigReader, _ node: Node, path: String) -> ModbusSlaveConfig? {
    reader.readSection(node, path: path) { s in
      var slave = ModbusSlaveConfig(
        unitId: reader.wholeNumber(&s, "unit_id") ?? 0, deviceId: reader.string(&s, "device_id") ?? "", registers: [])
      if let v = reader.durationOrLegacyMs(&s, "interval") { slave.intervalMs = v }
      slave.topic = reader.string(&s, "topic")
      for (i, n) in (reader.sequence(&s, "registers") ?? []).enumerated() {
        if let entry = registerEntry(reader, n, path: path + ".registers[\(i)]") { slave.registers.append(entry) }
      }
      if let v = reader.wholeNumber(&s, "max_gap") { slave.maxGap = v }
      if let v = reader.wholeNumber(&s, "max_registers_per_read") { slave.maxRegistersPerRead = v }
      if s.entries["unit_id"] == nil { reader.problem(node, path + ".unit_id", "missing: the slave address, 1 to 247") }
      return slave
    }
  }

  /// A `registers:` entry: `name`, `address` (required), `table`, `type`, `word_order`,
  /// `byte_order`, `scale`, `offset`, `unit` and `decimals`.
  static func registerEntry(_ reader: ConfigReader, _ node: Node, path: String) -> RegisterMapEntry? {
    reader.readSection(node, path: path) { s in
      typealias Entry = RegisterMapEntry
      let name = reader.string(&s, "name") ?? ""
      let table = reader.choice(&s, "table", Entry.Table.self, allowed: Entry.Table.allCases)
      let address = reader.wholeNumber(&s, "address")
      let type = reader.choice(&s, "type", Entry.ValueType.self, allowed: Entry.ValueType.allCases)
      var entry = Entry(name: name, table: table ?? .holdingRegister, address: address ?? 0, type: type)
      if let v = reader.choice(&s, "word_order", Entry.Order.self, allowed: Entry.Order.allCases) {
        entry.wordOrder = v
      }
      if let v = reader.choice(&s, "byte_order", Entry.Order.self, allowed: Entry.Order.allCases) {
        entry.byteOrder = v
      }
      if let v = reader.number(&s, "scale") { entry.scale = v }
      if let v = reader.number(&s, "offset") { entry.offset = v }
      entry.unit = reader.string(&s, "unit")
      entry.decimals = reader.wholeNumber(&s, "decimals")
      if s.entries["address"] == nil {
        reader.problem(node, path + ".address", "missing: the protocol address, 0-based (register 40001 is 0)")
      }
      return entry
    }
  }
}

extension ConfigReader {
  /// Reads the mapping at `node` with `body`, then reports the keys it did not ask for. The value
  /// only if this found no problem, in the mapping or the sections within.
  func readSection<T>(_ node: Node, path: String, _ body: (inout Section) -> T) -> T? {
    let before = problems.count
    guard var s = section(node, path: path) else { return nil }
    let value = body(&s)
    finish(s)
    return problems.count == before ? value : nil
  }

  /// A whole number of any size `Int` holds, for settings whose bounds the model's `problems()`
  /// checks.
  func wholeNumber(_ s: inout Section, _ key: String) -> Int? {
    guard let text = string(&s, key) else { return nil }
    guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
      problem(s.at(key), join(s.path, key), "expected a whole number, got '\(text.prefix(80))'")
      return nil
    }
    return n
  }

  /// A duration in milliseconds under `key` (`500ms`, `2s`), or a whole number of milliseconds
  /// under the deprecated `key_ms`, read for one more release with a warning at its line. Both
  /// at once is a problem. The bounds are the model's `problems()`.
  func durationOrLegacyMs(_ s: inout Section, _ key: String) -> Int? {
    let legacy = key + "_ms"
    guard let old = s.entries[legacy] else {
      return millisecondCount(&s, key, range: 0...ConfigValues.maxMilliseconds)
    }
    if s.entries[key] != nil {
      s.used.formUnion([key, legacy])
      problem(old.key, join(s.path, legacy), "give \(key) (a duration such as 500ms) or the older \(legacy), not both")
      return nil
    }
    warning(
      old.key, join(s.path, legacy),
      "deprecated: write \(key) with a unit (e.g. \(key): \(old.value.scalar?.string ?? "500")ms); the _ms keys are read for one more release"
    )
    return wholeNumber(&s, legacy)
  }
}
