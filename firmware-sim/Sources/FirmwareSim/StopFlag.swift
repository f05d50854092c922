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
