import Foundation
import Synchronization

/// Runs load mode: one dedicated thread per publisher, each driving its own connection's network
/// loop (manual mode), so publishes go straight to the socket with no hand-off. QoS 0 flushes the
/// loop whenever the socket pushes back; QoS 1 pipelines up to ``LoadOptions/maxInflight`` PUBLISHes
/// before reading PUBACKs. The payload is formatted into one reused buffer per publisher: only the
/// sequence digits change between messages.
public enum LoadGenerator {
  public static func run(_ options: LoadOptions, stop: StopFlag) throws -> LoadResult {
    precondition(options.publishers > 0 && options.messages >= 0 && options.payloadBytes >= 0)
    let shared = LoadShared(publishers: options.publishers)
    var threads: [Thread] = []
    for publisher in 0..<options.publishers {
      let count = options.messages / options.publishers + (publisher < options.messages % options.publishers ? 1 : 0)
      let thread = Thread {
        LoadWorker(publisher: publisher, count: count, options: options, shared: shared, stop: stop).run()
      }
      thread.name = "load-\(publisher)"
      thread.stackSize = 1 << 20
      threads.append(thread)
      thread.start()
    }
    // Start everyone together once all are connected (or some failed).
    while shared.ready.load(ordering: .acquiring) < options.publishers {
      Thread.sleep(forTimeInterval: 0.001)
    }
    if let failure = shared.failure.withLock({ $0 }) {
      shared.go.store(true, ordering: .releasing)
      shared.waitForAll()
      throw failure
    }
    let start = SimClock.monotonicSeconds()
    shared.go.store(true, ordering: .releasing)
    shared.waitForAll()
    let end = shared.latestEnd.withLock { $0 }
    if let failure = shared.failure.withLock({ $0 }) {
      throw failure
    }
    return LoadResult(
      messages: shared.delivered.load(ordering: .acquiring), seconds: max(end - start, 1e-9),
      qos: options.qos, publishers: options.publishers, payloadBytes: options.payloadBytes,
      errors: shared.errors.load(ordering: .acquiring))
  }
}

/// State the publisher threads share with the coordinator.
private final class LoadShared: Sendable {
  let publishers: Int
  let ready = Atomic<Int>(0)
  let finished = Atomic<Int>(0)
  let go = Atomic<Bool>(false)
  let delivered = Atomic<Int>(0)
  let errors = Atomic<Int>(0)
  let latestEnd = Mutex<Double>(0)
  let failure = Mutex<(any Error & Sendable)?>(nil)

  init(publishers: Int) {
    self.publishers = publishers
  }

  func waitForAll() {
    while finished.load(ordering: .acquiring) < publishers {
      Thread.sleep(forTimeInterval: 0.001)
    }
  }

  func fail(_ error: any Error & Sendable) {
    failure.withLock { existing in
      if existing == nil { existing = error }
    }
  }
}

/// One publisher thread's work.
private struct LoadWorker {
  let publisher: Int
  let count: Int
  let options: LoadOptions
  let shared: LoadShared
  let stop: StopFlag

  func run() {
    defer { shared.finished.add(1, ordering: .releasing) }
    let client: MosquittoClient
    do {
      client = try connect()
    } catch {
      shared.fail(error)
      shared.ready.add(1, ordering: .releasing)
      return
    }
    shared.ready.add(1, ordering: .releasing)
    while !shared.go.load(ordering: .acquiring) {
      usleep(50)
    }
    if shared.failure.withLock({ $0 != nil }) {
      client.disconnect()
      return
    }
    do {
      try publishAll(client)
    } catch {
      shared.fail(error)
    }
    let end = SimClock.monotonicSeconds()
    shared.latestEnd.withLock { $0 = max($0, end) }
    shared.delivered.add(client.acknowledged, ordering: .releasing)
    client.disconnect()
    try? client.loop(timeoutMilliseconds: 10)
  }

  private func connect() throws -> MosquittoClient {
    var configuration = MosquittoClient.Configuration(clientID: "\(options.clientIDPrefix)-\(publisher + 1)")
    configuration.username = options.broker.username
    configuration.password = options.broker.password
    configuration.maxInflight = options.maxInflight
    configuration.keepAliveSeconds = 60
    let client = try MosquittoClient(configuration)
    try client.connect(host: options.broker.host, port: options.broker.port)
    let deadline = SimClock.monotonicSeconds() + 10
    while !client.isConnected {
      try client.loop(timeoutMilliseconds: 100)
      if SimClock.monotonicSeconds() > deadline {
        throw FleetRunError.cannotConnect(options.broker, seconds: 10)
      }
    }
    return client
  }

  private func publishAll(_ client: MosquittoClient) throws {
    let topics = (0..<max(options.topicsPerPublisher, 1)).map {
      ContiguousArray("\(options.topicPrefix)/\(publisher)/\($0)".utf8CString)
    }
    var payload = LoadPayload(publisher: publisher, size: options.payloadBytes)
    let window = Int(options.maxInflight)
    var errors = 0
    for sequence in 0..<count {
      if sequence & 1023 == 0 && stop.isStopped { break }
      payload.setSequence(sequence)
      let topic = topics[sequence % topics.count]
      do {
        try topic.withUnsafeBufferPointer { name in
          try payload.bytes.withUnsafeBytes { bytes in
            try client.publish(topic: name.baseAddress!, payload: bytes, qos: options.qos)
          }
        }
      } catch let error as MosquittoError {
        errors += 1
        if error.isNotConnected { throw error }
      }
      if options.qos > 0 {
        while sequence + 1 - client.acknowledged >= window {
          try client.loop(timeoutMilliseconds: 10)
        }
        if sequence & 63 == 0 { try client.loop(timeoutMilliseconds: 0) }
      } else if client.wantsWrite {
        try client.loop(timeoutMilliseconds: 10)
      } else if sequence & 1023 == 0 {
        try client.loop(timeoutMilliseconds: 0)
      }
    }
    // Flush: every QoS 0 message written, every QoS 1 message acknowledged.
    let deadline = SimClock.monotonicSeconds() + 30
    while (options.qos > 0 ? client.acknowledged < count - errors : client.wantsWrite)
      && SimClock.monotonicSeconds() < deadline && !stop.isStopped
    {
      try client.loop(timeoutMilliseconds: 10)
    }
    shared.errors.add(errors, ordering: .relaxed)
  }
}
