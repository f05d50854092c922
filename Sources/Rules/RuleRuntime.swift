import Payload

/// A running rule: its compiled form plus the state of every key (windows, watermark, alert).
protocol RuleRuntimeProtocol: AnyObject {
  var compiled: CompiledRule { get }
  var windowObserver: ((String, String, Int64, Int64, [Value], Bool) -> Void)? { get set }
  var statistics: RuleStatistics { get }
  /// Renumbers the rule's field slots to the topic-wide slots (`map[local] = topic slot`).
  func bind(slotMap: [Int])
  func process(_ context: borrowing RecordContext, _ record: RecordInfo, now: Int64, into output: inout RuleOutput)
  /// Closes the windows of keys idle since `now - idle_timeout`; returns the next time worth checking again and
  /// whether any key's windows closed. With `force`, closes every key's windows whatever its timeout.
  func closeIdleKeys(now: Int64, into output: inout RuleOutput, force: Bool) -> (next: Int64, closed: Bool)
  /// Sets every key's last-seen processing time (after a restore, the old clock's readings mean nothing).
  func resetLastSeen(_ now: Int64)
  func encode(into writer: inout CheckpointWriter)
  /// Reads the rule's state and returns what installs it, so a checkpoint damaged further on changes nothing.
  func decode(from reader: inout CheckpointReader) throws(CheckpointError) -> () -> Void
}

/// Where a record came from, for late records routed to a side topic.
struct RecordInfo {
  var topic: String
  var partition: Int32
  var offset: Int64
  var value: UnsafeRawBufferPointer
}

/// Per-key bookkeeping besides the windows.
struct KeyMeta {
  var maxEventTime = Int64.min
  /// Raised by an idle flush: records before it would land in windows already emitted.
  var lateBound = Int64.min
  var lastSeen: Int64 = 0
  var raised = false
  var falseStreak = 0
}

final class RuleRuntime<Strategy: WindowStrategy>: RuleRuntimeProtocol {
  let compiled: CompiledRule
  let strategy: Strategy
  let lateness: Int64
  let idleTimeout: Int64?
  var filter: RecordExpression?
  var keys: [RecordExpression]
  var inputs: [RecordExpression]
  var interner = KeyInterner()
  var windows: [Strategy.KeyWindows] = []
  var meta: [KeyMeta] = []
  var keyParts: [[Value]] = []
  var keyNames: [String] = []
  var keyScratch: [UInt8] = []
  let inputScratch: UnsafeMutableBufferPointer<Scalar>
  let emptyInput = InputAccumulator(ewmaAlphas: [])
  let layout: AccumulatorLayout
  let latePolicy: LatePolicy
  var stats: RuleStatistics
  /// Sees every evaluated window (rule, key, start, end, SELECT values, HAVING result); for tests and tracing.
  var windowObserver: ((String, String, Int64, Int64, [Value], Bool) -> Void)?

  init(compiled: CompiledRule, strategy: Strategy) {
    self.compiled = compiled
    self.strategy = strategy
    lateness = compiled.definition.options.latenessMilliseconds
    idleTimeout = compiled.definition.options.idleTimeoutMilliseconds
    filter = compiled.filter
    keys = compiled.keys
    inputs = compiled.inputs
    inputScratch = .allocate(capacity: max(1, compiled.inputs.count))
    inputScratch.initialize(repeating: .null)
    stats = RuleStatistics(rule: compiled.name)
    layout = compiled.layout
    latePolicy = compiled.definition.options.late
  }

  deinit { inputScratch.deallocate() }

  var statistics: RuleStatistics {
    var s = stats
    s.keys = meta.count
    s.activeAlerts = meta.reduce(0) { $0 + ($1.raised ? 1 : 0) }
    return s
  }

  func bind(slotMap: [Int]) {
    filter = compiled.filter?.remapped(slotMap)
    keys = compiled.keys.map { $0.remapped(slotMap) }
    inputs = compiled.inputs.map { $0.remapped(slotMap) }
  }

  @inline(__always) private func watermark(_ m: KeyMeta) -> Int64 {
    let fromEvents = m.maxEventTime == Int64.min ? Int64.min : m.maxEventTime &- lateness
    return max(fromEvents, m.lateBound)
  }

  func process(_ context: borrowing RecordContext, _ record: RecordInfo, now: Int64, into output: inout RuleOutput) {
    if let filter, !filter.evaluate(context).isTrue { return }
    stats.recordsMatched += 1
    let id = key(context)
    let time = context.timestamp
    meta[id].lastSeen = now
    if strategy.usesWatermark, time < watermark(meta[id]) {
      stats.lateRecords += 1
      if case .topic(let topic) = latePolicy {
        let key = context.key.map { Array($0) }
        output.lateRecords.append(
          LateRecord(
            rule: compiled.name, topic: topic, sourceTopic: record.topic, partition: record.partition,
            offset: record.offset, timestamp: time, key: key, value: Array(record.value)))
      }
      return
    }
    for i in inputs.indices { inputScratch[i] = inputs[i].evaluate(context) }
    let values = UnsafeBufferPointer(start: inputScratch.baseAddress, count: inputs.count)
    strategy.add(values, time: time, to: &windows[id], layout: layout) { window in
      self.evaluate(window, key: id, into: &output)
    }
    if time > meta[id].maxEventTime { meta[id].maxEventTime = time }
    if strategy.usesWatermark {
      strategy.close(upTo: watermark(meta[id]), &windows[id], layout: layout) { window in
        self.evaluate(window, key: id, into: &output)
      }
    }
  }

  /// Interns the record's group key; a key seen before costs a hash and a compare, nothing more.
  @inline(__always) private func key(_ context: borrowing RecordContext) -> Int {
    var found: (id: Int, isNew: Bool)
    var parts: [Scalar] = []
    if keys.count == 1, case .text(let p, let n, false) = keys[0].evaluate(context) {
      found = interner.intern(UnsafeRawBufferPointer(start: p, count: n))
      if found.isNew { parts = [.text(p, n, escaped: false)] }
    } else {
      // Multi-part and non-text keys are encoded behind a 0xFF byte, which UTF-8 text never contains.
      keyScratch.removeAll(keepingCapacity: true)
      keyScratch.append(0xFF)
      for k in keys {
        let part = k.evaluate(context)
        switch part {
        case .null: keyScratch.append(0)
        case .bool(let b): keyScratch.append(b ? 2 : 1)
        case .number(let v):
          keyScratch.append(3)
          withUnsafeBytes(of: (v == 0 ? 0 : v).bitPattern.littleEndian) { keyScratch.append(contentsOf: $0) }
        case .text(let p, let n, let escaped):
          keyScratch.append(4)
          if escaped {
            let bytes = Scalar.bytes(p, n, escaped: true)
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: bytes.count).littleEndian) {
              keyScratch.append(contentsOf: $0)
            }
            keyScratch.append(contentsOf: bytes)
          } else {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: n).littleEndian) { keyScratch.append(contentsOf: $0) }
            keyScratch.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
          }
        }
      }
      found = keyScratch.withUnsafeBytes { interner.intern($0) }
      if found.isNew { parts = keys.map { $0.evaluate(context) } }
    }
    if found.isNew {
      let values = parts.map(\.value)
      keyParts.append(values)
      keyNames.append(values.map(\.description).joined(separator: "|"))
      windows.append(strategy.makeWindows())
      meta.append(KeyMeta())
    }
    return found.id
  }

  private func evaluate(_ window: borrowing ClosedWindow, key id: Int, into output: inout RuleOutput) {
    stats.windowsClosed += 1
    let accumulator = window.accumulator
    var aggregates: [Value] = []
    aggregates.reserveCapacity(compiled.calls.count)
    for call in compiled.calls {
      let input = accumulator.inputs.isEmpty ? emptyInput : accumulator.inputs[call.input]
      aggregates.append(
        call.function.evaluate(
          input, records: accumulator.records, parameter: call.parameter, windowEnd: window.end, star: call.star))
    }
    var env = WindowExpression.Environment(aggregates: aggregates, keyParts: keyParts[id], selectValues: [])
    for item in compiled.select { env.selectValues.append(item.evaluate(env)) }
    let condition = compiled.having.map { $0.evaluate(env) == .bool(true) } ?? true
    windowObserver?(compiled.name, keyNames[id], window.start, window.end, env.selectValues, condition)
    var m = meta[id]
    var transition: AlertEvent.State?
    if condition {
      m.falseStreak = 0
      if !m.raised {
        m.raised = true
        transition = .raised
      }
    } else if m.raised {
      m.falseStreak += 1
      if m.falseStreak >= compiled.definition.alert.clearAfterWindows {
        m.raised = false
        m.falseStreak = 0
        transition = .cleared
      }
    }
    meta[id] = m
    guard let transition else { return }
    if transition == .raised { stats.alertsRaised += 1 } else { stats.alertsCleared += 1 }
    output.alerts.append(
      makeAlert(transition, key: keyNames[id], start: window.start, end: window.end, env.selectValues))
  }

  private func makeAlert(_ state: AlertEvent.State, key: String, start: Int64, end: Int64, _ values: [Value])
    -> AlertEvent
  {
    let definition = compiled.definition
    let named = zip(compiled.aliases, values).map { AlertEvent.NamedValue(name: $0.0, value: $0.1) }
    var message = definition.alert.message ?? "\(definition.name) \(state.rawValue) for \(key)"
    if message.contains("{") {
      var replacements = [
        "key": key, "rule": definition.name, "severity": definition.alert.severity,
        "state": state.rawValue,
      ]
      for v in named { replacements[v.name] = v.value.description }
      message = RuleRuntime.fill(message, replacements)
    }
    return AlertEvent(
      rule: definition.name, severity: definition.alert.severity, key: key, state: state, windowStart: start,
      windowEnd: end, values: named, message: message)
  }

  static func fill(_ template: String, _ values: [String: String]) -> String {
    var out = ""
    var rest = Substring(template)
    while let open = rest.firstIndex(of: "{") {
      out += rest[..<open]
      guard let close = rest[open...].firstIndex(of: "}") else { break }
      let name = String(rest[rest.index(after: open)..<close])
      out += values[name] ?? "{\(name)}"
      rest = rest[rest.index(after: close)...]
    }
    return out + rest
  }

  func closeIdleKeys(now: Int64, into output: inout RuleOutput, force: Bool) -> (next: Int64, closed: Bool) {
    guard let idle = force ? 0 : idleTimeout else { return (Int64.max, false) }
    var next = Int64.max
    var closed = false
    for id in meta.indices where strategy.hasOpenWindows(windows[id]) {
      let deadline = meta[id].lastSeen &+ idle
      if force || deadline <= now {
        let bound = strategy.flush(&windows[id], layout: layout) { window in
          self.evaluate(window, key: id, into: &output)
        }
        meta[id].lateBound = max(meta[id].lateBound, bound)
        closed = true
      } else {
        next = min(next, deadline)
      }
    }
    return (next, closed)
  }

  func resetLastSeen(_ now: Int64) {
    for i in meta.indices { meta[i].lastSeen = now }
  }
}
