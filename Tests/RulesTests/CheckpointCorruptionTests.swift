import Testing
@testable import Rules

/// A damaged checkpoint (SQLite handed back other bytes) is refused with a reason and changes nothing; it never
/// traps, and never makes the engine reserve memory the bytes could not hold.
@Suite struct CheckpointCorruptionTests {
  /// A checkpoint built with the engine's own encoders, so single fields can be given impossible values.
  struct Crafted: CustomTestStringConvertible, Sendable {
    var name: String
    var rule = "CREATE RULE r AS SELECT percentile(x, 0.5) AS p, ewma(x, 0.5) AS e FROM telemetry GROUP BY k, TUMBLING(1m) RAISE ALERT 'i' CLEAR AFTER 2 WINDOWS"
    /// The reason the restore must give.
    var reason: String
    var offset: Int64 = 5
    var keys: Int64 = 1
    var parts = 1
    var valueTag: Int64 = 3
    var maxEventTime = t0
    var lateBound = Int64.min
    var streak: Int64 = 0
    /// Writes the key's windows; gets the rule's accumulator layout.
    var windows: @Sendable (inout CheckpointWriter, AccumulatorLayout) -> Void = { w, layout in
      PanedWindows(size: minute, advance: minute).encode(CheckpointCorruptionTests.panes([t0], layout), into: &w)
    }
    /// Changes the finished bytes (same length, so every length prefix stays right).
    var patch: @Sendable ([UInt8]) -> [UInt8] = { $0 }
    var testDescription: String { name }

    func bytes(for engine: RuleEngine) -> [UInt8] {
      let compiled = engine.runtimes[0].compiled
      var w = CheckpointWriter()
      w.int(1)
      w.int(1)
      w.string("telemetry")
      w.int(1)
      w.int(offset)
      w.int(1)
      w.string(compiled.name)
      w.string(compiled.definition.fingerprint)
      var block = CheckpointWriter()
      block.int(keys)
      block.bytes(Array("k".utf8))
      block.string("k")
      block.int(parts)
      for _ in 0..<parts {
        block.int(valueTag)
        block.string("k")
      }
      block.int(maxEventTime)
      block.int(lateBound)
      block.bool(false)
      block.int(streak)
      windows(&block, compiled.layout)
      w.bytes(block.bytes)
      return patch(Array("WEIRRULE".utf8) + w.bytes)
    }
  }

  static func accumulator(_ layout: AccumulatorLayout, _ change: (inout InputAccumulator) -> Void = { _ in })
    -> WindowAccumulator
  {
    var a = WindowAccumulator(layout: layout)
    let values: [Scalar] = [.number(1)]
    values.withUnsafeBufferPointer { a.add($0, time: t0, layout: layout) }
    change(&a.inputs[0])
    return a
  }

  static func panes(
    _ starts: [Int64], _ layout: AccumulatorLayout, _ change: (inout WindowAccumulator) -> Void = { _ in }
  ) -> PanedWindows.KeyWindows {
    var w = PanedWindows.KeyWindows()
    for start in starts {
      var a = accumulator(layout)
      change(&a)
      w.panes.append(PanedWindows.Pane(start: start, accumulator: a))
    }
    return w
  }

  static func paned(_ change: @escaping @Sendable (inout WindowAccumulator) -> Void) -> @Sendable (
    inout CheckpointWriter, AccumulatorLayout
  ) -> Void {
    { w, layout in PanedWindows(size: minute, advance: minute).encode(panes([t0], layout, change), into: &w) }
  }

  /// A value to find in the encoded bytes: the count written before it is the percentile's value count.
  static let marker = Double(bitPattern: 0x4123_4567_89AB_CDEF)

  static func countBeforeMarker(_ bytes: [UInt8], _ count: Int64) -> [UInt8] {
    let pattern = withUnsafeBytes(of: marker.bitPattern.littleEndian) { Array($0) }
    guard let at = (8..<bytes.count - 8).first(where: { Array(bytes[$0..<$0 + 8]) == pattern }) else { return bytes }
    var out = bytes
    withUnsafeBytes(of: count.littleEndian) { out.replaceSubrange(at - 8..<at, with: $0) }
    return out
  }

  static let crafted: [Crafted] = [
    Crafted(name: "a key count past the bytes", reason: "impossible length 9223372036854775807", keys: Int64.max),
    Crafted(name: "a key count the bytes cannot hold", reason: "impossible length 1099511627776", keys: 1 << 40),
    Crafted(name: "a negative offset", reason: "impossible offset -5", offset: -5),
    Crafted(name: "two parts for a one-part key", reason: "a key with the wrong number of parts", parts: 2),
    Crafted(name: "no parts for a one-part key", reason: "a key with the wrong number of parts", parts: 0),
    Crafted(name: "an unknown value tag", reason: "unknown value tag 9", valueTag: 9),
    Crafted(name: "a newest event time of Int64.max", reason: "impossible time 9223372036854775807", maxEventTime: Int64.max),
    Crafted(name: "a late bound far past any time", reason: "impossible time 4611686018427387904", lateBound: 1 << 62),
    Crafted(name: "a false streak as long as CLEAR AFTER", reason: "impossible run of 2 false windows", streak: 2),
    Crafted(name: "a negative false streak", reason: "impossible run of -1 false windows", streak: -1),
    Crafted(name: "a false streak of Int64.max", reason: "impossible run of 9223372036854775807", streak: Int64.max),
    Crafted(name: "a pane at Int64.min", reason: "impossible time -9223372036854775808") { w, layout in
      PanedWindows(size: minute, advance: minute).encode(panes([Int64.min], layout), into: &w)
    },
    Crafted(name: "panes out of order", reason: "is out of order or not aligned") { w, layout in
      PanedWindows(size: minute, advance: minute).encode(panes([t0 + minute, t0], layout), into: &w)
    },
    Crafted(name: "a pane twice", reason: "is out of order or not aligned") { w, layout in
      PanedWindows(size: minute, advance: minute).encode(panes([t0, t0], layout), into: &w)
    },
    Crafted(name: "a pane between boundaries", reason: "is out of order or not aligned") { w, layout in
      PanedWindows(size: minute, advance: minute).encode(panes([t0 + 1], layout), into: &w)
    },
    Crafted(name: "a next window start of Int64.max", reason: "impossible time 9223372036854775807") { w, layout in
      var windows = panes([t0], layout)
      windows.nextStart = Int64.max
      PanedWindows(size: minute, advance: minute).encode(windows, into: &w)
    },
    Crafted(name: "a record count of Int64.max", reason: "impossible count 9223372036854775807", windows: paned { $0.records = Int64.max }),
    Crafted(name: "a negative record count", reason: "impossible count -1", windows: paned { $0.records = -1 }),
    Crafted(
      name: "a value count of Int64.max", reason: "impossible length 9223372036854775807",
      windows: paned { $0.inputs[0].values = [marker] }, patch: { countBeforeMarker($0, Int64.max) }),
    Crafted(
      name: "a value count the bytes cannot hold", reason: "impossible length 1099511627776",
      windows: paned { $0.inputs[0].values = [marker] }, patch: { countBeforeMarker($0, 1 << 40) }),
    Crafted(name: "a NaN among the values", reason: "a non-finite value", windows: paned { $0.inputs[0].values = [.nan] }),
    Crafted(name: "an infinite value", reason: "a non-finite value", windows: paned { $0.inputs[0].values = [-.infinity] }),
    Crafted(name: "an ewma factor of another rule", reason: "an ewma() factor does not match the rule",
      windows: paned { $0.inputs[0].ewma[0].alpha = 0.25 }),
    Crafted(name: "no ewma state", reason: "an ewma() state does not match the rule", windows: paned { $0.inputs[0].ewma = [] }),
    Crafted(name: "an ewma count of Int64.max", reason: "impossible count 9223372036854775807",
      windows: paned { $0.inputs[0].ewma[0].count = Int64.max }),
    Crafted(name: "a negative numeric count", reason: "impossible count -1", windows: paned { $0.inputs[0].n = -1 }),
    Crafted(name: "a first time of Int64.min", reason: "impossible time -9223372036854775808",
      windows: paned { $0.inputs[0].firstTime = Int64.min }),
    Crafted(name: "an input the rule does not have", reason: "accumulator shape does not match the rule",
      windows: paned { $0.inputs.append($0.inputs[0]) }),
    Crafted(
      name: "overlapping sessions",
      rule: "CREATE RULE r AS SELECT count(*) AS n FROM telemetry GROUP BY k, SESSION(1m) RAISE ALERT 'i' CLEAR AFTER 2 WINDOWS",
      reason: "overlaps the one before"
    ) { w, layout in
      var windows = SessionWindows.KeyWindows()
      for start in [t0, t0 + 30_000] {
        windows.sessions.append(.init(start: start, end: start + minute, accumulator: WindowAccumulator(layout: layout)))
      }
      SessionWindows(gap: minute).encode(windows, into: &w)
    },
    Crafted(
      name: "an empty session",
      rule: "CREATE RULE r AS SELECT count(*) AS n FROM telemetry GROUP BY k, SESSION(1m) RAISE ALERT 'i' CLEAR AFTER 2 WINDOWS",
      reason: "is empty"
    ) { w, layout in
      var windows = SessionWindows.KeyWindows()
      windows.sessions.append(.init(start: t0, end: t0, accumulator: WindowAccumulator(layout: layout)))
      SessionWindows(gap: minute).encode(windows, into: &w)
    },
    Crafted(
      name: "sliding records out of order",
      rule: "CREATE RULE r AS SELECT count(*) AS n FROM telemetry GROUP BY k, SLIDING(1m) RAISE ALERT 'i' CLEAR AFTER 2 WINDOWS",
      reason: "records are out of order"
    ) { w, layout in
      var windows = SlidingWindows.KeyWindows()
      for time in [t0, t0 - 1] { windows.pending.append(.init(time: time, accumulator: WindowAccumulator(layout: layout))) }
      SlidingWindows(size: minute).encode(windows, into: &w)
    },
    Crafted(
      name: "a count window starting at Int64.min",
      rule: "CREATE RULE r AS SELECT count(*) AS n FROM telemetry GROUP BY k, COUNT(5) RAISE ALERT 'i' CLEAR AFTER 2 WINDOWS",
      reason: "impossible time -9223372036854775808"
    ) { w, layout in
      var windows = CountWindows.KeyWindows()
      windows.accumulator = WindowAccumulator(layout: layout)
      windows.start = Int64.min
      CountWindows(size: 5).encode(windows, into: &w)
    },
  ]

  @Test(arguments: crafted)
  func craftedDamageIsRefused(_ c: Crafted) throws {
    let engine = try RuleEngine(source: c.rule, fileName: "r.sql", clock: ManualClock())
    let before = engine.checkpoint()
    let changes = engine.changeCount
    let error = #expect(throws: CheckpointError.self) { try engine.restore(from: c.bytes(for: engine)) }
    #expect(error?.message.contains(c.reason) == true, "\(error?.message ?? "no error")")
    #expect(engine.checkpoint() == before, "a refused checkpoint changed the engine")
    #expect(engine.changeCount == changes)
  }

  @Test func theCraftedBaselineRestores() throws {
    let c = Crafted(name: "valid", reason: "")
    let engine = try RuleEngine(source: c.rule, fileName: "r.sql", clock: ManualClock())
    try engine.restore(from: c.bytes(for: engine))
    #expect(engine.statistics.rules[0].keys == 1)
  }

  /// Extreme values a live engine could hold restore, and processing on from them does not trap.
  @Test func extremeButPossibleStateRuns() throws {
    var c = Crafted(name: "extremes", reason: "")
    c.maxEventTime = CheckpointReader.timeLimit
    c.lateBound = -CheckpointReader.timeLimit
    c.streak = 1
    c.windows = { w, layout in
      var windows = CheckpointCorruptionTests.panes([CheckpointReader.timeLimit - CheckpointReader.timeLimit % minute], layout) {
        $0.records = CheckpointReader.counterLimit
        $0.inputs[0].n = CheckpointReader.counterLimit
        $0.inputs[0].nonNull = CheckpointReader.counterLimit
        $0.inputs[0].ewma[0].count = CheckpointReader.counterLimit
      }
      windows.nextStart = -CheckpointReader.timeLimit
      PanedWindows(size: minute, advance: minute).encode(windows, into: &w)
    }
    let feed = try Feeder(c.rule)
    try feed.engine.restore(from: c.bytes(for: feed.engine))
    for i in 0..<20 { feed.send(#"{"k":"k","x":\#(i)}"#, at: t0 + Int64(i) * 10_000, offset: 6 + Int64(i)) }
    feed.send(#"{"k":"k","x":1}"#, at: RuleEngine.timestampLimit - 1, offset: 100)
    feed.closeAll()
    #expect(feed.engine.statistics.rules[0].lateRecords == 21)
    #expect(feed.alerts.count == 1)
  }

  /// Truncations and changed bytes all over a real checkpoint: each restore either succeeds (and the engine then
  /// runs on) or is refused leaving the engine as it was. (The `rules` fuzz harness does this at length.)
  @Test func everyByteOfARealCheckpointChanged() throws {
    let rules = CheckpointTests.rules
    let source = try RuleEngine(source: rules, fileName: "r.sql", clock: ManualClock())
    _ = CheckpointTests.run(source, CheckpointTests.inputs(seed: 5)[..<16], clock: ManualClock())
    let bytes = source.checkpoint()
    #expect(bytes.count > 1000)
    let fresh = try RuleEngine(source: rules, fileName: "r.sql", clock: ManualClock())
    let empty = fresh.checkpoint()
    var refused = 0
    var restored = 0
    func attempt(_ damaged: [UInt8]) throws {
      let engine = try RuleEngine(source: rules, fileName: "r.sql", clock: ManualClock())
      do {
        try engine.restore(from: damaged)
        restored += 1
        _ = CheckpointTests.run(engine, CheckpointTests.inputs(seed: 6)[..<4], clock: ManualClock())
        var output = RuleOutput()
        engine.closeAllWindows(into: &output)
      } catch {
        refused += 1
        #expect(engine.checkpoint() == empty)
      }
    }
    for length in stride(from: 0, to: bytes.count, by: 29) { try attempt(Array(bytes[..<length])) }
    for i in stride(from: 0, to: bytes.count, by: 13) {
      var damaged = bytes
      damaged[i] ^= i % 2 == 0 ? 0xFF : 0x80
      try attempt(damaged)
    }
    #expect(refused > bytes.count / 29)
    #expect(restored > 0)
  }
}
