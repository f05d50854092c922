public import CoreMetrics
import Foundation

/// A metrics factory that keeps the total of every counter and the last value of every gauge,
/// keyed by `label{name=value,...}` with dimensions sorted, for tests to read.
public final class TestMetrics: MetricsFactory, @unchecked Sendable {
  private let lock = NSLock()
  private var values: [String: Double] = [:]

  public init() {}

  public static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
    "\(label){\(dimensions.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ","))}"
  }

  /// The value of one series.
  public func value(_ label: String, _ dimensions: [(String, String)]) -> Double? {
    lock.withLock { values[Self.key(label, dimensions)] }
  }

  /// The sum over every series of `label` whose dimensions include `matching`.
  public func total(_ label: String, _ matching: [(String, String)] = []) -> Double {
    lock.withLock {
      values.filter { key, _ in
        key.hasPrefix(label + "{") && matching.allSatisfy { key.contains("\($0.0)=\($0.1)") }
      }.values.reduce(0, +)
    }
  }

  fileprivate func add(_ key: String, _ amount: Double) { lock.withLock { values[key, default: 0] += amount } }
  fileprivate func set(_ key: String, _ value: Double) { lock.withLock { values[key] = value } }

  public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
    Handler(self, Self.key(label, dimensions))
  }
  public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
    Handler(self, Self.key(label, dimensions))
  }
  public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
    Handler(self, Self.key(label, dimensions))
  }
  public func destroyCounter(_ handler: any CounterHandler) {}
  public func destroyRecorder(_ handler: any RecorderHandler) {}
  public func destroyTimer(_ handler: any TimerHandler) {}

  private final class Handler: CounterHandler, RecorderHandler, TimerHandler, @unchecked Sendable {
    let owner: TestMetrics
    let key: String
    init(_ owner: TestMetrics, _ key: String) {
      self.owner = owner
      self.key = key
    }
    func increment(by amount: Int64) { owner.add(key, Double(amount)) }
    func reset() { owner.set(key, 0) }
    func record(_ value: Int64) { owner.set(key, Double(value)) }
    func record(_ value: Double) { owner.set(key, value) }
    func recordNanoseconds(_ duration: Int64) { owner.set(key, Double(duration)) }
  }
}
