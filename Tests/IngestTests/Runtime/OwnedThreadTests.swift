import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WeirCore

/// The owned thread as a lifecycle `Service`: its body runs on a thread of its own (off Swift's
/// pool), graceful shutdown and cancellation both call `stop`, and what the body throws reaches
/// the group.
@Suite struct OwnedThreadTests {
  /// A blocking loop that ends when told.
  final class Loop: Sendable {
    let stopped = Atomic<Bool>(false)
    let ran = Atomic<Bool>(false)
    let threadName = Mutex<String?>(nil)
    var wasStopped: Bool { stopped.load(ordering: .relaxed) }

    func body() {
      // The kernel's name of the calling thread, as `top -H` shows it.
      let text = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
      threadName.withLock { $0 = text?.trimmingCharacters(in: .whitespacesAndNewlines) }
      ran.store(true, ordering: .relaxed)
      while !stopped.load(ordering: .relaxed) { usleep(1000) }
    }
  }

  @Test func gracefulShutdownStopsTheThread() async throws {
    let loop = Loop()
    let thread = OwnedThread(name: "weir-test-loop", stop: { loop.stopped.store(true, ordering: .relaxed) }) {
      loop.body()
    }
    let group = ServiceGroup(
      configuration: .init(services: [.init(service: thread)], logger: Logger(label: "test")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      while !loop.ran.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
    #expect(loop.wasStopped)
    #expect(loop.threadName.withLock { $0 } == "weir-test-loop")
  }

  @Test func cancellationStopsTheThread() async throws {
    let loop = Loop()
    let thread = OwnedThread(name: "weir-test-loop", stop: { loop.stopped.store(true, ordering: .relaxed) }) {
      loop.body()
    }
    let task = Task { try await thread.runUntilStopped() }
    while !loop.ran.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
    task.cancel()
    try await task.value
    #expect(loop.wasStopped)
  }

  struct Failure: Error {}

  @Test func whatTheBodyThrowsIsRethrown() async {
    let thread = OwnedThread(name: "weir-test-loop", stop: {}) { throw Failure() }
    await #expect(throws: Failure.self) { try await thread.run() }
  }
}
