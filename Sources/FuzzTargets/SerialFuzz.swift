import Foundation
import PartitionedLog
import Payload
import Synchronization

@testable import Ingest

// The serial harnesses. The line ones take the first byte as the choice of configuration (low
// four bits) and of read size (high bit: reads of 1-8 bytes, else 16 KiB), and the rest as the
// bytes the port delivers, framed and decoded as `SerialLineSource` does into a router on a real
// log, which is committed by discarding (a store per input would be too slow). With bit 6 the
// bytes go through twice, the second time with passes that stop after every line (as when the
// output budget is spent), and both must give the same records. The Modbus one takes the bytes
// as a slave's responses to the polls of a register map.
extension FuzzTargets {
  static func nmeaLines(_ data: UnsafeRawBufferPointer) {
    SerialLineFuzz.run(data, SerialLineFuzz.nmeaConfigs)
  }

  static func csvLines(_ data: UnsafeRawBufferPointer) {
    SerialLineFuzz.run(data, SerialLineFuzz.csvConfigs)
  }

  static func jsonLines(_ data: UnsafeRawBufferPointer) {
    SerialLineFuzz.run(data, SerialLineFuzz.jsonConfigs)
  }

  static func modbusFrames(_ data: UnsafeRawBufferPointer) {
    SerialModbusFuzz.run(data)
  }
}

/// The line harnesses' shared log, router and configurations.
enum SerialLineFuzz {
  /// The read time of every line: inside the standard range, outside the narrow one.
  static let readTime: Int64 = 1_700_000_000_000
  static let narrow = EventTimeRange(earliestMs: 1_600_000_000_000, latestMs: 1_650_000_000_000)

  static let store: LogStore = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("weir-fuzz-serial-\(getpid())").path
    // Not an input: a harness that cannot open its log has nothing to test.
    return try! LogStore.open(directory: path)
  }()
  nonisolated(unsafe) static let router: LogRouter = try! LogRouter(store: store, source: "serial:fuzz")
  nonisolated(unsafe) static let route: TopicRoute = try! router.route("telemetry")
  static let port = SerialPortConfig(path: "/dev/fuzz", deviceId: "fuzz-1")

  static let nmeaConfigs: [LineProtocolConfig] = [
    LineProtocolConfig(format: .nmea),
    LineProtocolConfig(format: .nmea, timestampField: "epoch_ms", timestampMissing: .readTime),
    LineProtocolConfig(format: .nmea, terminator: .cr, keyField: "talker", nmeaRequireChecksum: false),
    LineProtocolConfig(
      format: .nmea, maxLineLength: 82, keyField: "type", timestampField: "epoch_ms", timeRange: narrow,
      nmeaRequireChecksum: false, nmeaSentences: ["GGA", "RMC", "XDR", "VTG"]),
    LineProtocolConfig(format: .nmea, timestampField: "time", timestampUnit: .seconds, nmeaRequireChecksum: false),
  ]

  static let csvColumns = [
    CSVColumn("ts", .int), CSVColumn("device", .string), CSVColumn("temp", .float), CSVColumn("ok", .bool),
    CSVColumn("note"),
  ]

  static let csvConfigs: [LineProtocolConfig] = [
    LineProtocolConfig(format: .csv, csvHeader: true),
    LineProtocolConfig(
      format: .csv, keyField: "device", timestampField: "ts", csvHeader: true, columns: csvColumns),
    LineProtocolConfig(format: .csv, keyField: "device", timestampField: "ts", columns: csvColumns),
    LineProtocolConfig(
      format: .csv, terminator: .cr, timestampField: "ts", timestampUnit: .seconds, timestampMissing: .readTime,
      columns: csvColumns, delimiter: ";"),
    LineProtocolConfig(
      format: .csv, maxLineLength: 64, timestampField: "ts", timestampUnit: .nanoseconds, timeRange: narrow,
      columns: [CSVColumn("ts"), CSVColumn("a"), CSVColumn("b")]),
    LineProtocolConfig(
      format: .csv, timestampField: "note", timestampUnit: .microseconds, csvHeader: true, columns: csvColumns,
      delimiter: "\t"),
  ]

  static let jsonConfigs: [LineProtocolConfig] = [
    LineProtocolConfig(format: .jsonLines),
    LineProtocolConfig(format: .jsonLines, keyField: "device", timestampField: "ts"),
    LineProtocolConfig(format: .jsonLines, keyField: "id", timestampField: "time", timestampUnit: .seconds),
    LineProtocolConfig(
      format: .jsonLines, terminator: .cr, timestampField: "ts", timestampUnit: .microseconds,
      timestampMissing: .readTime, timeRange: narrow),
    LineProtocolConfig(format: .jsonLines, maxLineLength: 256, timestampField: "ts", timestampUnit: .nanoseconds),
  ]

  /// What a run produced: record values with their times (sorted: partitions are committed in
  /// their own order) and the status counts.
  struct Output: Equatable {
    var records: [[UInt8]] = []
    var deadLetters: Int64 = 0
    var skipped: Int64 = 0
  }

  /// The router is not thread-safe, and `CorpusReplayTests` replays the three line harnesses at once.
  static let lock = Mutex(())

  static func run(_ data: UnsafeRawBufferPointer, _ configs: [LineProtocolConfig]) {
    lock.withLock { _ in runLocked(data, configs) }
  }

  private static func runLocked(_ data: UnsafeRawBufferPointer, _ configs: [LineProtocolConfig]) {
    guard let selector = data.first else { return }
    let config = configs[Int(selector & 0x0F) % configs.count]
    precondition(config.problems().isEmpty, "harness configuration: \(config.problems())")
    let readSize = selector & 0x80 != 0 ? Int(selector >> 4 & 0x07) + 1 : 16 * 1024
    let stream = UnsafeRawBufferPointer(rebasing: data[1...])
    let whole = feed(stream, config, readSize: readSize, budget: LinePipeline.outputBudget)
    if selector & 0x40 != 0 {
      let stopping = feed(stream, config, readSize: readSize, budget: 1)
      precondition(stopping == whole, "passes stopped at the budget framed differently: \(stopping) vs \(whole)")
    }
  }

  static func feed(_ stream: UnsafeRawBufferPointer, _ config: LineProtocolConfig, readSize: Int, budget: Int)
    -> Output
  {
    let pipeline = LinePipeline(config: config, port: port, router: router, route: route)
    pipeline.budget = budget
    let framer = LineFramer(maxLineLength: config.maxLineLength, terminator: config.terminator)
    var output = Output()
    var status = SerialPortStatus(path: port.path, deviceId: port.deviceId)
    var offset = 0
    while offset < stream.count || framer.hasUnframed {
      if framer.hasUnframed {
        framer.frameBuffered { pipeline.handle($0, readTime: readTime) }
      } else {
        let space = framer.readSpace
        let n = min(readSize, space.count, stream.count - offset)
        precondition(n > 0, "the framer left no room to read into")
        space.copyMemory(from: UnsafeRawBufferPointer(rebasing: stream[offset..<offset + n]))
        offset += n
        framer.consume(n) { pipeline.handle($0, readTime: readTime) }
      }
      if !pipeline.hasRoom { commit(pipeline, config, &output, &status) }
    }
    if let partial = framer.takePartial() {
      pipeline.handleIncomplete(partial, why: "end of input", readTime: readTime)
    }
    commit(pipeline, config, &output, &status)
    output.records.sort { $0.lexicographicallyPrecedes($1) }
    output.deadLetters = status.deadLetterTotal
    output.skipped = status.skippedLines
    precondition(status.records == Int64(output.records.count), "records counted \(status.records)")
    return output
  }

  /// Checks what a pass appended, as a commit would find it, and drops it.
  static func commit(
    _ pipeline: LinePipeline, _ config: LineProtocolConfig, _ output: inout Output, _ status: inout SerialPortStatus
  ) {
    var bytes = 0
    for builder in route.pendingBatches where !builder.isEmpty {
      bytes += builder.byteCount
      var records = RecordBatchView(builder.bytes).records
      while let record = records.next() {
        let value = record.value ?? UnsafeRawBufferPointer(start: nil, count: 0)
        if let problem = JSONFields.validate(value) {
          preconditionFailure("record value is not JSON (\(problem)): \(String(decoding: value, as: UTF8.self))")
        }
        precondition(
          record.timestamp == readTime || config.timeRange.contains(record.timestamp),
          "record time \(record.timestamp) outside \(config.timeRange)")
        withUnsafeBytes(of: record.timestamp) { output.records.append(Array($0) + Array(value)) }
      }
    }
    precondition(bytes < 12 << 20, "one pass appended \(bytes) bytes, near the log's 16 MiB batch limit")
    router.discardPending()
    pipeline.drainCounts(into: &status, now: readTime)
  }
}

/// The Modbus harness: one slave's register map, every type and word and byte order, scales that
/// overflow. The input is the slave's answers, one per request attempt: a flags byte, a length
/// byte and that many bytes. Flag bit 0 appends the right CRC and bit 1 puts the request's unit
/// and function first, so that the fuzzer reaches the value decoding; without them the bytes go
/// on the line as they are.
enum SerialModbusFuzz {
  static let registers: [RegisterMapEntry] = [
    RegisterMapEntry(name: "i16", address: 0, type: .int16),
    RegisterMapEntry(name: "u16", address: 1, type: .uint16, scale: 0.1),
    RegisterMapEntry(name: "i32", address: 2, type: .int32),
    RegisterMapEntry(name: "i32_dcba", address: 4, type: .int32, wordOrder: .little, byteOrder: .little),
    RegisterMapEntry(name: "u32", address: 6, type: .uint32, offset: -1e9),
    RegisterMapEntry(name: "u32_huge", address: 8, type: .uint32, wordOrder: .little, scale: 1e300),
    RegisterMapEntry(name: "i16_inf", address: 10, type: .int16, scale: 1e308, offset: 1e308),
    RegisterMapEntry(name: "u16_far", address: 40, type: .uint16, byteOrder: .little, decimals: 15),
    RegisterMapEntry(name: "f32", table: .inputRegister, address: 0, type: .float32),
    RegisterMapEntry(name: "f32_cdab", table: .inputRegister, address: 2, type: .float32, wordOrder: .little),
    RegisterMapEntry(
      name: "f32_scaled", table: .inputRegister, address: 4, type: .float32, byteOrder: .little, scale: 2,
      offset: -40),
    RegisterMapEntry(name: "f32_dec", table: .inputRegister, address: 6, type: .float32, decimals: 3),
    RegisterMapEntry(name: "f32_past_float", table: .inputRegister, address: 8, type: .float32, scale: 1e30),
    RegisterMapEntry(name: "i32_in", table: .inputRegister, address: 10, type: .int32, scale: 0.001),
    RegisterMapEntry(name: "coil0", table: .coil, address: 0),
    RegisterMapEntry(name: "coil9", table: .coil, address: 9),
    RegisterMapEntry(name: "coil30", table: .coil, address: 30),
    RegisterMapEntry(name: "input3", table: .discreteInput, address: 3),
    RegisterMapEntry(name: "input4", table: .discreteInput, address: 4),
  ]

  static let plan = ModbusReadPlan(unit: 7, entries: registers, maxRegisters: 8, maxGap: 2)
  nonisolated(unsafe) static let writer = JSONWriter(capacity: 1024)
  nonisolated(unsafe) static let values = UnsafeMutableBufferPointer<UInt16>.allocate(
    capacity: max(1, plan.storageCount))
  /// The master's receive buffer (`ModbusMaster` reads into 512 bytes).
  nonisolated(unsafe) static let rx = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)

  static func run(_ data: UnsafeRawBufferPointer) {
    var input = data[...]
    // Polls until the input runs out; each read gets the configured three attempts.
    while !input.isEmpty {
      var polled = true
      for read in plan.reads {
        var attempt = 0
        var done = false
        while !done && attempt < 3 {
          attempt += 1
          do throws(ModbusError) {
            let data = try respond(read.request, &input)
            ModbusValueDecoder.store(data, for: read.request, into: values, at: read.storage)
            done = true
          } catch {
            precondition(!error.message.isEmpty, "a Modbus error without a message")
            if !error.isTransient { break }
          }
        }
        if !done {
          polled = false
          break
        }
      }
      guard polled else { continue }
      ModbusValueDecoder.writeRecord(plan, UnsafeBufferPointer(values), into: writer)
      if let problem = JSONFields.validate(writer.bytes) {
        preconditionFailure("poll record is not JSON (\(problem)): \(String(decoding: writer.bytes, as: UTF8.self))")
      }
    }
  }

  /// One response as the master collects it: what the slave sent, parsed each time more arrives
  /// (as much as the parse asks for), until it is complete, wrong or the bytes end (a timeout).
  static func respond(_ request: ModbusRequest, _ input: inout Slice<UnsafeRawBufferPointer>) throws(ModbusError)
    -> UnsafeRawBufferPointer
  {
    guard input.count >= 2 else {
      input = input[input.endIndex...]
      throw ModbusError(.timeout, "no response from unit \(request.unit)")
    }
    let flags = input[input.startIndex]
    let length = Int(input[input.startIndex + 1])
    input = input.dropFirst(2)
    var count = 0
    if flags & 2 != 0 {
      rx[0] = request.unit
      rx[1] = request.function
      count = 2
    }
    let body = input.prefix(length)
    input = input.dropFirst(body.count)
    UnsafeMutableRawBufferPointer(rebasing: rx[count..<count + body.count]).copyMemory(
      from: UnsafeRawBufferPointer(rebasing: body))
    count += body.count
    if flags & 1 != 0 {
      let crc = ModbusCRC.checksum(UnsafeRawBufferPointer(rebasing: rx[0..<count]))
      rx[count] = UInt8(crc & 0xFF)
      rx[count + 1] = UInt8(crc >> 8)
      count += 2
    }
    var received = 0
    while true {
      switch try request.parse(UnsafeRawBufferPointer(rebasing: rx[0..<received])) {
      case .data(let range, _):
        return UnsafeRawBufferPointer(rebasing: rx[range])
      case .needMore(let needed):
        precondition(needed > received, "parse asked for no more bytes")
        guard needed <= count else {
          throw ModbusError(.timeout, "incomplete response from unit \(request.unit): \(count) bytes")
        }
        received = needed
      }
    }
  }
}
