import Synchronization

/// A one-way stop request shared between the signal handler and the loops that must end cleanly.
public final class StopFlag: Sendable {
  private let flag = Atomic<Bool>(false)

  public init() {}

  /// Ask every loop watching this flag to finish.
  public func stop() {
    flag.store(true, ordering: .releasing)
  }

  public var isStopped: Bool {
    flag.load(ordering: .acquiring)
  }
}

/// Where progress lines go (stderr in the CLI, nowhere in tests).
public typealias ProgressSink = @Sendable (String) -> Void

/// Text helpers for progress lines.
enum Format {
  /// `12.3` with one decimal.
  static func oneDecimal(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))"
  }

  /// `+01:23:20` for simulated seconds.
  static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded(.down))
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "+\(two(total / 3600)):\(two(total / 60 % 60)):\(two(total % 60))"
  }

  /// A JSON number for a rate or a duration: three decimals.
  static func number(_ value: Double) -> String {
    var bytes: [UInt8] = []
    JSONBytes.appendFixed(value, decimals: 3, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }
}
