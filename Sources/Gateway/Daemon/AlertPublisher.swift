import Foundation
import Logging
import MQTT
import Metrics
import Synchronization
import WeirCore

/// Publishes alerts to the local broker at QoS 1 (`weir/alerts/<rule>/<key>`), on its own thread,
/// reconnecting with back-off. Alerts are durable in the `alerts` topic whatever happens here; this
/// is the live notification for local consumers (a PLC, an HMI). While the broker is away up to
/// `capacity` alerts wait; older ones are dropped first (`weir_alerts_mqtt_dropped_total`).
final class AlertPublisher: Sendable {
  private let client: MosquittoClient
  private let logger: Logger
  private let capacity: Int
  private let queue = Mutex<[(String, [UInt8])]>([])
  private let running = Atomic<Bool>(true)
  private let finished = DispatchSemaphore(value: 0)
  private let connectedFlag = Atomic<Bool>(false)
  private let publishedCounter = Counter(label: "weir_alerts_mqtt_published_total")
  private let droppedCounter = Counter(label: "weir_alerts_mqtt_dropped_total")

  init(broker: MQTTClientConfig, logger: Logger, capacity: Int = 10_000) throws {
    client = try MosquittoClient(config: broker)
    self.logger = logger
    self.capacity = capacity
    client.onConnect = { [unowned self] rc, _, _ in connectedFlag.store(rc == 0, ordering: .relaxed) }
    client.onDisconnect = { [unowned self] _, _ in connectedFlag.store(false, ordering: .relaxed) }
  }

  var connected: Bool { connectedFlag.load(ordering: .relaxed) }

  /// Queues one alert; never blocks.
  func publish(topic: String, payload: [UInt8]) {
    let overflow = queue.withLock { q in
      q.append((topic, payload))
      if q.count > capacity {
        q.removeFirst(q.count - capacity)
        return true
      }
      return false
    }
    if overflow { droppedCounter.increment() }
  }

  func start() {
    OwnedThread.start(name: "weir-alerts-mqtt") { [self] in
      loop()
      finished.signal()
    }
  }

  /// Sends what is queued (for up to a second), disconnects and waits for the thread.
  func stop() {
    running.store(false, ordering: .relaxed)
    finished.wait()
  }

  private func loop() {
    var socketOpen = false
    var failures = 0
    var lastMisc = Date()
    var drainDeadline: Date?
    while true {
      if !running.load(ordering: .relaxed) {
        drainDeadline = drainDeadline ?? Date().addingTimeInterval(1)
        let empty = queue.withLock { $0.isEmpty }
        if !socketOpen || (empty && !client.wantsWrite) || Date() > drainDeadline! { break }
      }
      do {
        if !socketOpen {
          try client.connect()
          socketOpen = true
        }
        if connected {
          let batch = queue.withLock { q in
            defer { q.removeAll(keepingCapacity: true) }
            return q
          }
          for (topic, payload) in batch {
            try payload.withUnsafeBytes { _ = try client.publish(topic: topic, payload: $0, qos: 1) }
            publishedCounter.increment()
          }
        }
        _ = try client.readAvailable(maxMessages: 100, timeoutMs: 100) { _ in }
        try client.writePending()
        if Date().timeIntervalSince(lastMisc) >= 1 {
          try client.misc()
          lastMisc = Date()
        }
        if connected { failures = 0 }
      } catch {
        if failures == 0 || failures % 30 == 0 {
          logger.warning("alerts: local broker unavailable", metadata: ["error": "\(error)"])
        }
        failures += 1
        socketOpen = false
        connectedFlag.store(false, ordering: .relaxed)
        var slept = 0
        let delay = min(30_000, 250 << min(failures, 7))
        while slept < delay && running.load(ordering: .relaxed) {
          usleep(50_000)
          slept += 50
        }
      }
    }
    if socketOpen {
      client.disconnect()
      try? client.writePending()
    }
  }
}
