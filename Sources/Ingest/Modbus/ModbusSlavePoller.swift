import Logging
import Metrics
import PartitionedLog
import Payload
import WeirCore

/// One slave as its source polls it: the read plan, the schedule, whether it answers, and the
/// metrics and status that say so. Owned by the source thread.
final class ModbusSlavePoller {
  enum Result {
    case recorded
    case failed
    case stopped
    /// The port itself failed: the source reopens it.
    case portFailed(SerialError)
  }

  let index: Int
  let config: ModbusSlaveConfig
  let plan: ModbusReadPlan
  let route: TopicRoute
  let intervalNs: Int64
  var nextDueNs: Int64 = 0
  private let key: [UInt8]
  private let headers = RecordHeaders()
  private let portPath: String

  private var up = false
  private var answeredOnce = false
  private var failedLastPoll = false
  private var polls: Int64 = 0
  private var failedPolls: Int64 = 0
  private var missedPolls: Int64 = 0
  private var lastPollMs: Int64?
  private var lastSuccessMs: Int64?
  private var lastError: String?
  private var errors = [Int64](repeating: 0, count: ModbusError.Kind.allCases.count)

  private let upGauge: Gauge
  private let pollCounter: Counter
  private let errorCounters: [Counter]

  init(
    index: Int, config: ModbusSlaveConfig, port: String, route: TopicRoute, metrics: any MetricsFactory, source: String
  ) {
    self.index = index
    self.config = config
    self.route = route
    portPath = port
    plan = ModbusReadPlan(
      unit: config.unitId, entries: config.registers, maxRegisters: config.maxRegistersPerRead, maxGap: config.maxGap)
    intervalNs = Int64(config.intervalMs) * 1_000_000
    key = Array(config.deviceId.utf8)
    headers.add("source", source)
    headers.add("content-type", "application/json")
    headers.add("modbus.unit_id", String(config.unitId))
    let units = config.registers.compactMap { entry in entry.unit.map { (entry.name, $0) } }
    if !units.isEmpty {
      let writer = JSONWriter(capacity: 256)
      writer.beginObject()
      for (name, unit) in units {
        var name = name
        var unit = unit
        name.withUTF8 { _ = writer.key(UnsafeRawBufferPointer($0)) }
        unit.withUTF8 { _ = writer.string(UnsafeRawBufferPointer($0)) }
      }
      writer.endObject()
      headers.add("modbus.units", bytes: writer.bytes)
    }
    let dimensions = [("port", port), ("slave", String(config.unitId))]
    upGauge = Gauge(label: "weir_modbus_slave_up", dimensions: dimensions, factory: metrics)
    pollCounter = Counter(label: "weir_modbus_polls_total", dimensions: dimensions, factory: metrics)
    errorCounters = ModbusError.Kind.allCases.map {
      Counter(label: "weir_modbus_errors_total", dimensions: dimensions + [("kind", $0.rawValue)], factory: metrics)
    }
    upGauge.record(0)
  }

  /// Reads the whole register map and appends one record. A slave that failed its last poll gets
  /// a single attempt per request, so a dead slave costs the bus one timeout per poll.
  func poll(
    master: ModbusMaster, port: SerialPort, wake: WakePipe, attempts: Int,
    values: UnsafeMutableBufferPointer<UInt16>, writer: JSONWriter, router: LogRouter, clock: any WallClock,
    logger: Logger, shouldStop: () -> Bool
  ) -> Result {
    let pollTime = clock.nowMilliseconds()
    polls += 1
    pollCounter.increment()
    lastPollMs = pollTime
    let tries = failedLastPoll ? 1 : attempts
    for read in plan.reads {
      switch master.read(read.request, attempts: tries, port: port, wake: wake, shouldStop: shouldStop) {
      case .stopped:
        polls -= 1
        return .stopped
      case .data(let data, let retried):
        count(retried)
        ModbusValueDecoder.store(data, for: read.request, into: values, at: read.storage)
      case .failed(let failures):
        if let portError = failures.last?.port {
          polls -= 1
          return .portFailed(portError)
        }
        count(failures)
        failedPolls += 1
        let error = failures.last?.message ?? "no response"
        lastError = error
        // An exception is an answer: the slave is there, but refuses what the map asks for.
        let answered = failures.contains { $0.kind == .exception }
        if !failedLastPoll {
          logger.warning(
            answered ? "modbus slave refused a read" : "modbus slave not answering",
            metadata: ["port": "\(portPath)", "slave": "\(config.unitId)", "error": "\(error)"])
        }
        failedLastPoll = true
        up = answered
        upGauge.record(up ? 1 : 0)
        return .failed
      }
    }
    ModbusValueDecoder.writeRecord(plan, UnsafeBufferPointer(values), into: writer)
    key.withUnsafeBytes { router.append(route, key: $0, value: writer.bytes, timestamp: pollTime, headers: headers) }
    if failedLastPoll && answeredOnce {
      logger.info("modbus slave answering again", metadata: ["port": "\(portPath)", "slave": "\(config.unitId)"])
    }
    up = true
    answeredOnce = true
    failedLastPoll = false
    lastSuccessMs = pollTime
    upGauge.record(1)
    return .recorded
  }

  private func count(_ failures: [ModbusError]) {
    for failure in failures {
      let i = ModbusError.Kind.allCases.firstIndex(of: failure.kind) ?? 0
      errors[i] += 1
      errorCounters[i].increment()
    }
  }

  /// Moves the schedule on by whole intervals from the last due time, counting polls the bus had no
  /// time for (so a slow bus shows up as `missed_polls` instead of drifting).
  func scheduleNext(after now: Int64) {
    nextDueNs += intervalNs
    if nextDueNs <= now {
      let missed = (now - nextDueNs) / intervalNs + 1
      nextDueNs += missed * intervalNs
      missedPolls += missed
    }
  }

  /// The port went away: nothing on it answers until it is back.
  func portDown(_ error: any Error) {
    up = false
    lastError = "port down: \(error)"
    upGauge.record(0)
  }

  func publish(into status: inout ModbusSlaveStatus) {
    status.up = up
    status.polls = polls
    status.failedPolls = failedPolls
    status.missedPolls = missedPolls
    status.lastPollMs = lastPollMs
    status.lastSuccessMs = lastSuccessMs
    status.lastError = lastError
    for (i, kind) in ModbusError.Kind.allCases.enumerated() where errors[i] > 0 {
      status.errors[kind.rawValue] = errors[i]
    }
  }
}
