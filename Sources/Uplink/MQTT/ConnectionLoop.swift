import Foundation
import Logging
import MQTT
import Synchronization
import WeirCore

/// The thread that drives one ``MosquittoClient``: connects and reconnects with back-off, writes
/// queued publishes, reads PUBACKs (the client's callbacks run here) and sends keepalives.
/// `@unchecked Sendable`: its `let`s are immutable or thread-safe (`running` is atomic, the semaphore and `MosquittoClient` are safe across threads); everything else runs on the loop's own thread.
final class ConnectionLoop: @unchecked Sendable {
  private let client: MosquittoClient
  private let backoff: Backoff
  private let link: MqttTransport.Link
  private let logger: Logger
  private let name: String
  private let wakeup: WakePipe?
  private let running = Atomic<Bool>(true)
  private let finished = DispatchSemaphore(value: 0)

  init(
    client: MosquittoClient, backoff: Backoff, link: MqttTransport.Link, wakeup: WakePipe?, logger: Logger,
    name: String
  ) {
    self.wakeup = wakeup
    self.client = client
    self.backoff = backoff
    self.link = link
    self.logger = logger
    self.name = name
  }

  func start() {
    OwnedThread.start(name: "weir-uplink-\(name)-mqtt", stackSize: 1 << 20) { [self] in
      run()
      finished.signal()
    }
  }

  /// Stops the thread and waits for it.
  func stop() {
    guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
    finished.wait()
  }

  private func run() {
    var random = SystemRandomNumberGenerator()
    var socketOpen = false
    var everConnected = false
    var failures = 0
    var nextAttemptNs: Int64 = 0
    var lastMiscNs: Int64 = 0
    var lastComplaint = ""
    while running.load(ordering: .acquiring) {
      let now = Monotonic.nanoseconds()
      if !socketOpen {
        if now < nextAttemptNs {
          usleep(UInt32(min(50_000, (nextAttemptNs - now) / 1000)))
          continue
        }
        do {
          if everConnected { try client.reconnect() } else { try client.connect() }
          everConnected = true
          socketOpen = true
          failures = 0
          lastComplaint = ""
        } catch {
          link.shared.withLock { $0.troubled = true }
          failures += 1
          nextAttemptNs = now + Int64(backoff.delayMs(failures: failures, using: &random)) * 1_000_000
          if error.message != lastComplaint {
            logger.warning(
              "cannot reach the central MQTT broker; retrying", metadata: ["uplink": "\(name)", "error": "\(error)"])
            lastComplaint = error.message
          }
        }
        continue
      }
      do {
        try client.writePending()
        let busy = link.outstanding.load(ordering: .relaxed) > 0
        _ = try client.readAvailable(maxMessages: 10_000, timeoutMs: busy ? 1 : 20) { _ in }
        openGateAfterConnack()
        if now - lastMiscNs > 1_000_000_000 {
          try client.misc()
          lastMiscNs = now
        }
      } catch {
        socketOpen = false
        link.shared.withLock {
          $0.connected = false
          $0.accepted = false
          $0.troubled = true
        }
        failures += 1
        nextAttemptNs = now + Int64(backoff.delayMs(failures: failures, using: &random)) * 1_000_000
        logger.warning("lost the central MQTT broker", metadata: ["uplink": "\(name)", "error": "\(error)"])
      }
    }
  }

  /// After the read pass that brought CONNACK, libmosquitto has queued its re-sends of what was in
  /// flight: new publishes may follow them now.
  private func openGateAfterConnack() {
    let opened = link.shared.withLock { state -> Bool in
      guard state.accepted && !state.connected else { return false }
      state.connected = true
      state.connectedSinceNs = Monotonic.nanoseconds()
      return true
    }
    if opened { wakeup?.signal() }
  }
}
