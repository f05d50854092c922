import Foundation

/// Plays a ``FleetSimulator`` onto an MQTT broker in real or accelerated time.
///
/// The calling thread paces and publishes (each message waits until simulated time, `speed` times
/// faster than the wall clock, reaches its send time); each connection's own libmosquitto thread
/// does the network I/O. If the broker or the machine cannot keep up, messages go out as fast as
/// possible and the progress line shows how far behind simulated time is.
public struct FleetRunner {
  public var simulator: FleetSimulator
  public let options: FleetRunOptions
  private let stop: StopFlag
  private let progress: ProgressSink?

  public init(simulator: FleetSimulator, options: FleetRunOptions, stop: StopFlag, progress: ProgressSink?) {
    self.simulator = simulator
    self.options = options
    self.stop = stop
    self.progress = progress
  }

  /// Connect, play the fleet until its end or a stop request, drain, disconnect.
  public mutating func run() throws -> FleetRunSummary {
    let devices = simulator.devices
    let clients = try connectClients(
      count: options.connectionPerDevice ? devices.count : max(1, min(options.connections, devices.count)))
    defer {
      for client in clients { client.close() }
    }
    let topics = devices.map { "\(options.topicPrefix)/\($0.id)/telemetry" }
    let clock = simulator.clock
    var summary = FleetRunSummary()
    var lastError: MosquittoError?
    let realStart = SimClock.monotonicSeconds()
    var nextReport = realStart + 1
    var reportedPublished = 0
    var nextStorm = options.reconnectStormSeconds.map { realStart + $0 }
    var lastSimMillis: Int64 = 0

    func housekeeping(_ now: Double, _ summary: inout FleetRunSummary) {
      if let stormAt = nextStorm, now >= stormAt, let every = options.reconnectStormSeconds {
        for client in clients { client.dropConnection() }
        summary.storms += 1
        nextStorm = stormAt + every
      }
      if now >= nextReport {
        let up = clients.map(\.isConnected)
        let connected = up.filter { $0 }.count
        let devicesUp = devices.indices.filter { up[options.connectionPerDevice ? $0 : $0 % clients.count] }.count
        let rate = Double(summary.published - reportedPublished) / max(now - nextReport + 1, 0.001)
        reportedPublished = summary.published
        let simNow = Double(clock.simMillis(forRealSeconds: now - realStart)) / 1000
        let lag = simNow - Double(lastSimMillis) / 1000
        var line = "firmware-sim: \(Format.oneDecimal(now - realStart))s sim \(Format.duration(Double(lastSimMillis) / 1000))"
          + " | devices connected \(devicesUp)/\(devices.count) (connections \(connected)/\(clients.count))"
          + " | sent \(summary.published) (\(Int(rate))/s) | dropped \(summary.dropped)"
        if lag > 5 { line += " | behind \(Format.oneDecimal(lag))s sim" }
        if let lastError { line += " | last error: \(lastError)" }
        progress?(line)
        nextReport += 1
        if nextReport < now { nextReport = now + 1 }
      }
    }

    messages: while let message = simulator.next() {
      while true {
        if stop.isStopped {
          summary.stopped = true
          break messages
        }
        let now = SimClock.monotonicSeconds()
        housekeeping(now, &summary)
        let simNow = clock.simMillis(forRealSeconds: now - realStart)
        if simNow >= message.sendMillis { break }
        let wait = clock.realSeconds(forSimMillis: message.sendMillis - simNow)
        Thread.sleep(forTimeInterval: min(wait, max(nextReport - now, 0.001), 0.1))
      }
      let device = devices[message.device]
      let client = clients[options.connectionPerDevice ? message.device : message.device % clients.count]
      do {
        try client.publish(topic: topics[message.device], payload: message.payload, qos: device.qos)
        summary.published += 1
      } catch {
        // libmosquitto 2.0.11 answers a QoS 1 publish with MOSQ_ERR_NO_CONN while the connection
        // is down, yet keeps the message and sends it after reconnecting (pinned by a test): it is
        // queued, not lost. A QoS 0 message is gone.
        if device.qos > 0 && error.isNotConnected {
          summary.published += 1
        } else {
          summary.dropped += 1
          lastError = error
        }
      }
      lastSimMillis = message.sendMillis
    }

    drain(clients, published: summary.published)
    summary.delivered = clients.reduce(0) { $0 + $1.acknowledged }
    summary.reconnections = clients.reduce(0) { $0 + max($1.connections - 1, 0) }
    summary.simulatedSeconds = Double(lastSimMillis) / 1000
    summary.realSeconds = SimClock.monotonicSeconds() - realStart
    return summary
  }

  /// Create and start every connection, then wait for them to come up.
  ///
  /// libmosquitto 2.0.11's loop thread waits while a client is still in its initial state, and a
  /// `mosquitto_connect_async` that fails at once (connection refused) leaves it there: the loop
  /// never retries a failed *first* connect (pinned by a test). So first connects are retried here,
  /// every second, until the timeout; after that the loop thread handles reconnects itself.
  private func connectClients(count: Int) throws -> [MosquittoClient] {
    var clients: [MosquittoClient] = []
    var notStarted: [MosquittoClient] = []
    for number in 1...count {
      var configuration = MosquittoClient.Configuration(clientID: "\(options.clientIDPrefix)-\(number)")
      configuration.username = options.broker.username
      configuration.password = options.broker.password
      configuration.maxInflight = options.maxInflight
      let client = try MosquittoClient(configuration)
      if try !startConnecting(client) { notStarted.append(client) }
      try client.startLoop()
      clients.append(client)
    }
    let deadline = SimClock.monotonicSeconds() + options.connectTimeoutSeconds
    var nextRetry = SimClock.monotonicSeconds() + 1
    while SimClock.monotonicSeconds() < deadline {
      // Throws if the broker refused a connection (bad credentials, say).
      if try clients.allSatisfy({ try $0.waitUntilConnected(timeout: 0) }) { break }
      if SimClock.monotonicSeconds() >= nextRetry {
        notStarted = try notStarted.filter { try !startConnecting($0) }
        nextRetry += 1
      }
      Thread.sleep(forTimeInterval: 0.01)
    }
    let connected = clients.filter(\.isConnected).count
    if connected == 0 {
      for client in clients { client.close() }
      throw FleetRunError.cannotConnect(options.broker, seconds: options.connectTimeoutSeconds)
    }
    progress?("firmware-sim: \(connected)/\(count) connections up to \(options.broker)")
    return clients
  }

  /// Begin connecting; false when the broker could not be reached (retry later).
  private func startConnecting(_ client: MosquittoClient) throws -> Bool {
    do {
      try client.connectAsync(host: options.broker.host, port: options.broker.port)
      return true
    } catch {
      if error.isNetworkFailure { return false }
      throw error
    }
  }

  /// Wait for QoS 1 acknowledgements (and QoS 0 writes) to catch up, giving up after the drain
  /// timeout or when nothing has moved for five seconds (a reconnect may be under way).
  private func drain(_ clients: [MosquittoClient], published: Int) {
    let deadline = SimClock.monotonicSeconds() + options.drainTimeoutSeconds
    var last = -1
    var lastChange = SimClock.monotonicSeconds()
    while true {
      let delivered = clients.reduce(0) { $0 + $1.acknowledged }
      let now = SimClock.monotonicSeconds()
      if delivered >= published || now >= deadline { return }
      if delivered != last {
        last = delivered
        lastChange = now
      } else if now - lastChange > 5 {
        return
      }
      Thread.sleep(forTimeInterval: 0.01)
    }
  }
}
