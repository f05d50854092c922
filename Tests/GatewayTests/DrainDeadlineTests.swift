import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Gateway

/// The daemon's bound on a drain: a group whose services stop returns through ``DrainDeadline``
/// as it is; a group with a component that ignores both graceful shutdown and cancellation is
/// given up on once the deadline the ``DrainNotice`` armed has passed.
@Suite(.timeLimit(.minutes(1))) struct DrainDeadlineTests {
  /// Suspends until ``open()``, whatever graceful shutdown or cancellation ask.
  final class Gate: Sendable {
    private let state = Mutex<(opened: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func wait() async {
      await withCheckedContinuation { continuation in
        let opened = state.withLock { s in
          if !s.opened { s.waiter = continuation }
          return s.opened
        }
        if opened { continuation.resume() }
      }
    }

    func open() {
      state.withLock { s in
        s.opened = true
        defer { s.waiter = nil }
        return s.waiter
      }?.resume()
    }
  }

  struct Wedged: Service {
    let gate: Gate
    func run() async { await gate.wait() }
  }

  struct Polite: Service {
    func run() async throws { try? await gracefulShutdown() }
  }

  func group(_ service: some Service, deadline: DrainDeadline) -> ServiceGroup {
    let logger = Logger(label: "test")
    var config = ServiceGroupConfiguration(
      services: [
        .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
        .init(service: DrainNotice(deadlineMs: 50, logger: logger, deadline: deadline)),
      ], logger: logger)
    config.maximumGracefulShutdownDuration = .milliseconds(50)
    return ServiceGroup(configuration: config)
  }

  @Test func aGroupThatStopsReturnsAsItIs() async throws {
    let deadline = DrainDeadline(limitMs: 60_000)
    let group = group(Polite(), deadline: deadline)
    let running = Task { try await deadline.run { try await group.run() } }
    try await Task.sleep(for: .milliseconds(100))
    await group.triggerGracefulShutdown()
    try await running.value
  }

  @Test func aWedgedComponentIsGivenUpOnAfterTheDeadline() async throws {
    let gate = Gate()
    defer { gate.open() }
    let deadline = DrainDeadline(limitMs: 300)
    let group = group(Wedged(gate: gate), deadline: deadline)
    let running = Task { try await deadline.run { try await group.run() } }
    try await Task.sleep(for: .milliseconds(100))
    let start = ContinuousClock.now
    await group.triggerGracefulShutdown()
    await #expect(throws: DrainTimedOut.self) { try await running.value }
    let waited = start.duration(to: .now)
    #expect(waited >= .milliseconds(300) && waited < .seconds(5), "gave up after \(waited)")
  }
}
