// Stand-in for the rule service's two engine APIs until the rules branch lands; removed at merge.
extension RuleEngine {
  public func rewind(topic: String, partition: Int32, lastProcessed offset: Int64) {
    let t = self.topic(topic).index
    let p = Int(partition)
    if p >= offsets[t].count { offsets[t].append(contentsOf: repeatElement(-1, count: p + 1 - offsets[t].count)) }
    offsets[t][p] = offset
  }

  public var changeCount: UInt64 { UInt64(engineStats.recordsReceived) }
}
