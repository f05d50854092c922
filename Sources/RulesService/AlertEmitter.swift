import Logging
import PartitionedLog
import Payload
import Rules
import Synchronization

/// Writes what the rule engine produced to the log: alerts to the `alerts` topic (then handed to
/// `publish`), late records to their side topics. What the log refuses (a full disk) stays in the
/// output, in order, for the next try; the rule service reads nothing more meanwhile, so nothing
/// the engine decided is dropped.
final class AlertEmitter {
  let store: LogStore
  let alerts: Partition
  let publish: (@Sendable (String, [UInt8]) -> Void)?
  let logger: Logger
  private let builder = RecordBatchBuilder()
  private var refused = false

  init(store: LogStore, alerts: Partition, publish: (@Sendable (String, [UInt8]) -> Void)?, logger: Logger) {
    self.store = store
    self.alerts = alerts
    self.publish = publish
    self.logger = logger
  }

  /// Appends every alert and late record in `output`, emptying it; false when the log refused
  /// one (it and those after it stay). `alreadyWritten` holds alerts a replay must not write
  /// again. Failures other than a full log are thrown.
  private static let qos1 = Array("1".utf8)

  func emit(_ output: inout RuleOutput, alreadyWritten: inout [[UInt8]: Int], count: borrowing Atomic<Int>) throws
    -> Bool
  {
    var done = 0
    defer { if done > 0 { output.alerts.removeFirst(done) } }
    for alert in output.alerts {
      if let n = alreadyWritten[alert.json] {
        if n == 1 { alreadyWritten.removeValue(forKey: alert.json) } else { alreadyWritten[alert.json] = n - 1 }
        done += 1
        continue
      }
      builder.reset()
      // The MQTT topic and QoS as headers: the MQTT listener serves alerts to local subscribers
      // from this topic like any message published to it.
      builder.append(
        timestamp: alert.timestamp, key: alert.recordKey, value: alert.json,
        headers: [("mqtt.topic", Array(alert.mqttTopic.utf8)), ("mqtt.qos", Self.qos1)])
      guard try append(builder, to: alerts) else { return false }
      count.add(1, ordering: .relaxed)
      publish?(alert.mqttTopic, alert.json)
      done += 1
    }
    var late = 0
    defer { if late > 0 { output.lateRecords.removeFirst(late) } }
    for record in output.lateRecords {
      let side = try store.topic(record.topic) ?? store.createTopic(record.topic)
      builder.reset()
      builder.append(timestamp: record.timestamp, key: record.key, value: record.value)
      guard try append(builder, to: side.partitions[0]) else { return false }
      late += 1
    }
    if refused {
      refused = false
      logger.notice("the log takes alerts again")
    }
    return true
  }

  private func append(_ builder: RecordBatchBuilder, to partition: Partition) throws(LogError) -> Bool {
    do throws(LogError) {
      try partition.append(builder)
      return true
    } catch {
      guard error.code == .full else { throw error }
      if !refused {
        logger.warning(
          "the log refuses alerts (full); holding them and reading nothing more", metadata: ["reason": "\(error)"])
      }
      refused = true
      return false
    }
  }
}
