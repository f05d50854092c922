/// The statistics of one window (or pane) of one key: a record count and one accumulator per aggregate input.
struct WindowAccumulator: Equatable {
  var records: Int64 = 0
  var inputs: [InputAccumulator]

  init(layout: AccumulatorLayout) {
    inputs = layout.ewmaAlphas.map { InputAccumulator(ewmaAlphas: $0) }
  }

  @inline(__always) mutating func add(_ values: UnsafeBufferPointer<Scalar>, time: Int64, layout: AccumulatorLayout) {
    records += 1
    for i in 0..<values.count {
      inputs[i].add(values[i], time: time, features: layout.features[i])
    }
  }

  /// Combines with the statistics of records that come after these.
  mutating func merge(_ other: WindowAccumulator, layout: AccumulatorLayout) {
    records += other.records
    for i in inputs.indices { inputs[i].merge(other.inputs[i], features: layout.features[i]) }
  }

  /// Makes this an empty accumulator of the same shape, keeping allocated capacity.
  mutating func reset(layout: AccumulatorLayout) {
    records = 0
    for i in inputs.indices {
      var values = inputs[i].values
      inputs[i].values = []
      values.removeAll(keepingCapacity: true)
      inputs[i] = InputAccumulator(ewmaAlphas: layout.ewmaAlphas[i])
      inputs[i].values = values
    }
  }
}

/// The shape of a rule's accumulators: per input, the features kept and the EWMA smoothing factors.
struct AccumulatorLayout: Sendable {
  var features: [InputFeatures]
  var ewmaAlphas: [[Double]]
}
