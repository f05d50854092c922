/// One MQTT connection of the fleet, with the outbox a device firmware keeps for QoS 1.
///
/// libmosquitto 2.0.11 refuses a publish while the connection is down (`MOSQ_ERR_NO_CONN`, QoS 1
/// included; pinned by a test), so without an outbox every QoS 1 reading taken during a reconnect
/// would be lost. Like real firmware, QoS 1 messages that cannot be handed over wait here, in order,
/// and go out first once the connection is back; QoS 0 messages are dropped, as QoS 0 promises
/// nothing more.
final class FleetConnection {
  let client: MosquittoClient
  private var outbox: [Pending] = []
  private var outboxHead = 0

  /// Most messages an outbox holds; older ones are dropped beyond it.
  static let outboxLimit = 100_000

  struct Pending {
    let topic: String
    let payload: [UInt8]
    let qos: Int32
  }

  /// What happened to a message.
  enum Outcome {
    case published
    case queued
    case dropped(MosquittoError?)
  }

  init(client: MosquittoClient) {
    self.client = client
  }

  /// Messages waiting for the connection.
  var pending: Int { outbox.count - outboxHead }

  /// Publish now, or keep for later (QoS 1) if the connection is down or older messages wait.
  /// Returns the outcome for this message and how many queued ones went out first.
  func send(topic: String, payload: [UInt8], qos: Int32) -> (Outcome, flushed: Int, lost: Int) {
    let (flushed, lost) = flush()
    if pending > 0 {
      return (enqueue(Pending(topic: topic, payload: payload, qos: qos)), flushed, lost)
    }
    do {
      try client.publish(topic: topic, payload: payload, qos: qos)
      return (.published, flushed, lost)
    } catch {
      guard error.isNotConnected, qos > 0 else { return (.dropped(error), flushed, lost) }
      return (enqueue(Pending(topic: topic, payload: payload, qos: qos)), flushed, lost)
    }
  }

  /// Hand queued messages to the client while it takes them. Returns (published, lost to errors).
  @discardableResult
  func flush() -> (Int, Int) {
    guard pending > 0, client.isConnected else { return (0, 0) }
    var published = 0
    var lost = 0
    while outboxHead < outbox.count {
      let message = outbox[outboxHead]
      do {
        try client.publish(topic: message.topic, payload: message.payload, qos: message.qos)
        published += 1
      } catch {
        if error.isNotConnected { break }
        lost += 1
      }
      outboxHead += 1
    }
    if outboxHead == outbox.count {
      outbox.removeAll(keepingCapacity: true)
      outboxHead = 0
    }
    return (published, lost)
  }

  private func enqueue(_ message: Pending) -> Outcome {
    if pending >= Self.outboxLimit {
      outboxHead += 1
      outbox.append(message)
      return .dropped(nil)
    }
    outbox.append(message)
    return .queued
  }
}
