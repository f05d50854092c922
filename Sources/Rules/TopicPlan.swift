/// The rules reading one topic and the union of the payload fields they need, extracted once per record.
final class TopicPlan {
  let extractor: JSONFieldExtractor
  let slots: UnsafeMutableBufferPointer<Scalar>
  let runtimes: [any RuleRuntimeProtocol]
  /// The shortest idle timeout of the topic's rules, if any has one.
  let idleTimeout: Int64?

  init(runtimes: [any RuleRuntimeProtocol]) {
    var paths: [FieldPath] = []
    for runtime in runtimes {
      var map: [Int] = []
      for path in runtime.compiled.paths {
        if let i = paths.firstIndex(of: path) {
          map.append(i)
        } else {
          paths.append(path)
          map.append(paths.count - 1)
        }
      }
      runtime.bind(slotMap: map)
    }
    extractor = JSONFieldExtractor(paths: paths)
    slots = .allocate(capacity: max(1, paths.count))
    slots.initialize(repeating: .null)
    self.runtimes = runtimes
    idleTimeout = runtimes.compactMap(\.compiled.definition.options.idleTimeoutMilliseconds).min()
  }

  deinit { slots.deallocate() }
}
