import Payload

extension RuleRuntime {
  /// Writes the rule's state: keys in id order (so ids survive a restore), their watermarks, alert states and windows.
  func encode(into w: inout CheckpointWriter) {
    w.int(meta.count)
    for id in meta.indices {
      w.bytes(interner.bytes(of: id))
      w.string(keyNames[id])
      w.int(keyParts[id].count)
      for part in keyParts[id] { part.encode(into: &w) }
      let m = meta[id]
      w.int(m.maxEventTime)
      w.int(m.lateBound)
      w.bool(m.raised)
      w.int(m.falseStreak)
      strategy.encode(windows[id], into: &w)
    }
  }

  func decode(from r: inout CheckpointReader) throws(CheckpointError) -> () -> Void {
    var interner = KeyInterner()
    var windows: [Strategy.KeyWindows] = []
    var meta: [KeyMeta] = []
    var keyParts: [[Value]] = []
    var keyNames: [String] = []
    let count = try r.count(bytesEach: 49)
    for id in 0..<count {
      let bytes = try r.bytes()
      guard bytes.withUnsafeBytes({ interner.intern($0) }) == (id, true) else {
        throw CheckpointError(message: "rule \(compiled.name) has a duplicate key in its checkpoint")
      }
      keyNames.append(try r.string())
      // Windows read the key's parts by GROUP BY position.
      guard try r.count(bytesEach: 8) == compiled.keys.count else {
        throw r.error("rule \(compiled.name) has a key with the wrong number of parts")
      }
      var parts: [Value] = []
      for _ in compiled.keys.indices { parts.append(try Value(from: &r)) }
      keyParts.append(parts)
      var m = KeyMeta()
      m.maxEventTime = try r.time(or: Int64.min)
      m.lateBound = try r.time(or: Int64.min)
      m.raised = try r.bool()
      let streak = try r.int()
      guard streak >= 0, streak < Int64(compiled.definition.alert.clearAfterWindows) else {
        throw r.error("rule \(compiled.name) has an impossible run of \(streak) false windows")
      }
      m.falseStreak = Int(streak)
      meta.append(m)
      windows.append(try strategy.decode(from: &r, layout: compiled.layout))
    }
    // Nothing is replaced until every byte has been read and checked: a damaged checkpoint leaves the rule as it was.
    return {
      self.interner = interner
      self.windows = windows
      self.meta = meta
      self.keyParts = keyParts
      self.keyNames = keyNames
    }
  }
}

extension Value {
  func encode(into w: inout CheckpointWriter) {
    switch self {
    case .null: w.int(0)
    case .number(let v):
      w.int(1)
      w.double(v)
    case .bool(let b):
      w.int(2)
      w.bool(b)
    case .string(let s):
      w.int(3)
      w.string(s)
    }
  }

  init(from r: inout CheckpointReader) throws(CheckpointError) {
    switch try r.int() {
    case 0: self = .null
    case 1: self = .number(try r.double())
    case 2: self = .bool(try r.bool())
    case 3: self = .string(try r.string())
    case let tag: throw CheckpointError(message: "unknown value tag \(tag)")
    }
  }
}
