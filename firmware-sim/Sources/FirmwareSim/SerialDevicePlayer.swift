import Foundation

/// Plays one device on a pseudo-terminal: line protocols (NMEA, CSV, JSON lines) write a reading
/// every interval; Modbus RTU answers the gateway's polls from registers the device model drives.
///
/// ``emitReading()`` and ``serve(timeoutMilliseconds:)`` do one step each, so tests can drive the
/// device without threads; ``run(stop:progress:)`` paces them in real or accelerated time.
public final class SerialDevicePlayer {
  public let options: SerialOptions
  /// The pseudo-terminal the device talks through.
  public let terminal: PseudoTerminal
  public private(set) var summary = SerialRunSummary()
  private let clock: SimClock
  private var model: DeviceModel
  private var rng: Xoshiro256
  private var nmea: NMEAEncoder
  private var nextSampleMillis: Int64 = 0
  private var latest: Reading?
  private var samples = 0
  private var framer = ModbusRequestFramer()
  private let slave: ModbusSlave
  private var scratch: [UInt8] = []

  public init(_ options: SerialOptions) throws {
    if let problem = options.faults.problems().first {
      throw SerialError(message: problem)
    }
    self.options = options
    clock = SimClock(startEpochMillis: options.startEpochMillis, speed: options.speed)
    model = DeviceModel(
      kind: options.device.kind, seed: options.device.streamSeed(options.seed, .model),
      degradation: options.device.degradation)
    rng = Xoshiro256(seed: options.device.streamSeed(options.seed, .faults))
    nmea = NMEAEncoder(seed: options.device.streamSeed(options.seed, .setup))
    slave = ModbusSlave(address: options.modbusAddress)
    terminal = try PseudoTerminal(link: options.link)
  }

  /// The path the gateway opens: the symlink if there is one, else the pty slave.
  public var devicePath: String { options.link ?? terminal.slavePath }

  /// Sample the model at the next interval and write that reading's lines (line protocols).
  public func emitReading() throws {
    let reading = sampleNext()
    let timestamp = clock.epochMillis(reading.simMillis)
    let device = options.device
    var lines: [String] = []
    switch options.lineProtocol {
    case .nmea:
      let rate = options.faults.badChecksum
      lines = nmea.sentences(kind: device.kind, values: reading.values, epochMillis: timestamp) { _ in
        self.rng.chance(rate)
      }
    case .csv:
      let every = options.csvHeaderEvery
      if samples == 1 || (every > 0 && (samples - 1) % every == 0) {
        lines.append(CSVEncoder.header(kind: device.kind))
      }
      lines.append(CSVEncoder.row(device: device.id, kind: device.kind, timestamp: timestamp, values: reading.values))
    case .jsonl:
      TelemetryEncoder.encode(
        device: device.id, kind: device.kind, timestamp: timestamp, values: reading.values, into: &scratch)
      lines.append(String(decoding: scratch, as: UTF8.self) + "\n")
    case .modbusRTU:
      return
    }
    for line in lines {
      try writeLineFaults()
      try send(Array(line.utf8))
    }
  }

  /// Wait up to `timeoutMilliseconds` for a Modbus request and answer it (Modbus RTU).
  public func serve(timeoutMilliseconds: Int32) throws {
    let bytes = try terminal.read(timeoutMilliseconds: timeoutMilliseconds)
    let frames = bytes.isEmpty ? framer.flushOnSilence().map { [$0] } ?? [] : framer.append(bytes)
    for frame in frames {
      catchUp()
      switch slave.handle(frame, bank: currentBank()) {
      case .ignored:
        summary.ignored += 1
      case .reply(var response):
        if rng.chance(options.faults.noResponse) {
          summary.unanswered += 1
          continue
        }
        if rng.chance(options.faults.badChecksum) {
          response[response.count - 1] ^= 0xFF
        }
        summary.answered += 1
        try send(response)
      }
    }
  }

  /// Run until stopped or the duration is over.
  public func run(stop: StopFlag, progress: ProgressSink?) throws {
    let realStart = SimClock.monotonicSeconds()
    let endMillis = options.durationSeconds.map { Int64($0 * 1000) }
    var nextReport = realStart + 1
    progress?("firmware-sim: \(options.device.id) speaks \(options.lineProtocol.rawValue) on \(devicePath) (\(terminal.slavePath))")
    while !stop.isStopped {
      let now = SimClock.monotonicSeconds()
      let simNow = clock.simMillis(forRealSeconds: now - realStart)
      if let endMillis, simNow >= endMillis { break }
      if now >= nextReport {
        progress?(
          "firmware-sim: \(Format.oneDecimal(now - realStart))s sim \(Format.duration(Double(simNow) / 1000))"
            + " | written \(summary.written) | answered \(summary.answered) | ignored \(summary.ignored)"
            + " | dropped \(summary.droppedBytes) B")
        nextReport += 1
      }
      if options.lineProtocol == .modbusRTU {
        try serve(timeoutMilliseconds: 20)
        continue
      }
      if simNow >= nextSampleMillis {
        try emitReading()
      } else {
        let wait = clock.realSeconds(forSimMillis: nextSampleMillis - simNow)
        Thread.sleep(forTimeInterval: min(wait, 0.05))
      }
    }
  }

  private func sampleNext() -> Reading {
    let reading = model.sample(at: nextSampleMillis, clock: clock)
    latest = reading
    samples += 1
    nextSampleMillis += options.device.intervalMillis
    return reading
  }

  /// Step the model through every interval up to the current simulated time, so the registers
  /// change at the device's own rate however often the master polls.
  private var modbusStart: Double?
  private func catchUp() {
    let now = SimClock.monotonicSeconds()
    let start = modbusStart ?? now
    modbusStart = start
    let simNow = clock.simMillis(forRealSeconds: now - start)
    var steps = 0
    while latest == nil || (nextSampleMillis <= simNow && steps < 100_000) {
      _ = sampleNext()
      steps += 1
    }
  }

  private func currentBank() -> ModbusRegisterBank {
    let reading = latest ?? Reading(simMillis: 0, values: .zero)
    var status = ModbusRegisterMap.Status()
    if let degradation = options.device.degradation {
      status.warning = degradation.progress(at: reading.simMillis) >= 0.5
      status.failed = degradation.hasFailed(at: reading.simMillis)
    }
    status.uptimeSeconds = UInt32(clamping: reading.simMillis / 1000)
    status.sampleCounter = UInt16(truncatingIfNeeded: samples)
    status.heartbeat = (reading.simMillis / 1000) % 2 == 1
    return ModbusRegisterMap.bank(
      kind: options.device.kind, deviceNumber: TelemetryEncoder.deviceNumber(options.device.id),
      values: reading.values, status: status, slaveAddress: options.modbusAddress,
      intervalSeconds: Int(options.device.intervalMillis / 1000))
  }

  /// The faults that go before a line: an over-long line, then garbage glued to the real line.
  private func writeLineFaults() throws {
    let garbage = rng.chance(options.faults.garbage)
    let overlong = rng.chance(options.faults.overlong)
    if overlong {
      var bytes = [UInt8](repeating: 0, count: options.faults.overlongBytes)
      for index in bytes.indices {
        bytes[index] = UInt8(ascii: "A") + UInt8(index % 26)
      }
      bytes.append(contentsOf: [0x0D, 0x0A])
      try send(bytes, countsAsLine: false)
    }
    if garbage {
      let count = 1 + rng.below(32)
      var bytes: [UInt8] = []
      while bytes.count < count {
        let byte = UInt8(truncatingIfNeeded: rng.next())
        if byte != 0x0A && byte != 0x0D && byte != UInt8(ascii: "$") { bytes.append(byte) }
      }
      try send(bytes, countsAsLine: false)
    }
  }

  private func send(_ bytes: [UInt8], countsAsLine: Bool = true) throws {
    let written = try terminal.write(bytes)
    summary.droppedBytes += bytes.count - written
    if countsAsLine { summary.written += 1 }
  }
}

/// A serial device that cannot be set up as asked.
public struct SerialError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
