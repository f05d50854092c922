extension RuleEngine {
  private static let magic = Array("WEIRRULE".utf8)
  private static let version: Int64 = 1

  /// Serialises the whole state: per-partition offsets and, per rule, its keys, watermarks, alert states and
  /// open windows. Deterministic: the same state gives the same bytes.
  ///
  /// Layout: "WEIRRULE", version (8 bytes LE), topics (name, per-partition last offsets), then per rule its name,
  /// its fingerprint and its state as a length-prefixed block, so a restore can skip rules that changed.
  public func checkpoint() -> [UInt8] {
    var w = CheckpointWriter()
    var header = RuleEngine.magic
    w.int(RuleEngine.version)
    w.int(topicNames.count)
    for (t, name) in topicNames.enumerated() {
      w.string(name)
      w.int(offsets[t].count)
      for o in offsets[t] { w.int(o) }
    }
    w.int(runtimes.count)
    for runtime in runtimes {
      w.string(runtime.compiled.name)
      w.string(runtime.compiled.definition.fingerprint)
      var block = CheckpointWriter()
      runtime.encode(into: &block)
      w.bytes(block.bytes)
    }
    header.append(contentsOf: w.bytes)
    return header
  }

  /// Restores a checkpoint taken by `checkpoint()` into this engine (load the rules first).
  ///
  /// Rules whose name and text match a rule in the checkpoint get its state; others start empty. Offsets are
  /// restored for every partition, so replaying the log from the checkpoint skips what was already processed.
  /// Keys' idle timers restart from now, as the old process's clock readings mean nothing to this one.
  ///
  /// Any bytes are safe to pass: a damaged or foreign checkpoint throws `CheckpointError` and leaves the engine
  /// exactly as it was.
  public func restore(from bytes: [UInt8]) throws(CheckpointError) {
    guard bytes.count >= 8, Array(bytes[0..<8]) == RuleEngine.magic else {
      throw CheckpointError(message: "not a rule checkpoint (bad magic)")
    }
    var r = CheckpointReader(Array(bytes[8...]))
    let version = try r.int()
    guard version == RuleEngine.version else {
      throw CheckpointError(message: "checkpoint version \(version) is not supported (expected \(RuleEngine.version))")
    }
    var restoredOffsets: [(String, [Int64])] = []
    let topicCount = try r.count(bytesEach: 16)
    for _ in 0..<topicCount {
      let name = try r.string()
      let partitions = try r.count(Int(RuleLimits.maximumPartitions), bytesEach: 8)
      var list: [Int64] = []
      list.reserveCapacity(partitions)
      for _ in 0..<partitions {
        let offset = try r.int()
        guard offset >= -1 else { throw r.error("topic \(name) has an impossible offset \(offset)") }
        list.append(offset)
      }
      restoredOffsets.append((name, list))
    }
    var blocks: [(String, String, [UInt8])] = []
    let ruleCount = try r.count(bytesEach: 24)
    for _ in 0..<ruleCount { blocks.append((try r.string(), try r.string(), try r.bytes())) }
    guard r.isAtEnd else { throw CheckpointError(message: "checkpoint has trailing bytes") }
    var installs: [(any RuleRuntimeProtocol, () -> Void)] = []
    for (name, fingerprint, block) in blocks {
      guard let runtime = runtimes.first(where: { $0.compiled.name == name }),
        runtime.compiled.definition.fingerprint == fingerprint
      else { continue }
      var reader = CheckpointReader(block)
      let install = try runtime.decode(from: &reader)
      guard reader.isAtEnd else { throw CheckpointError(message: "rule \(name)'s state has trailing bytes") }
      installs.append((runtime, install))
    }
    // Everything was read and checked: only now does the engine change.
    let time = now()
    for (runtime, install) in installs {
      install()
      runtime.resetLastSeen(time)
    }
    for (name, list) in restoredOffsets {
      let t = topic(name).index
      offsets[t] = list
    }
    nextIdleCheck = Int64.min
    changeCount &+= 1
  }
}
