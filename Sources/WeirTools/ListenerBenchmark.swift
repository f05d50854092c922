import Foundation
import Ingest
import Logging
import MQTT
import MQTTWire
public import PartitionedLog
import Payload
import Rules
import Synchronization
import WeirCore

/// `weir bench listener`: the same K publishers, in the same run, (a) into Weir's own listener
/// with a 6-partition durable log, and (b) through mosquitto to a bare libmosquitto subscriber
/// that only counts: the old path's ceiling. The publishers are raw MQTT 3.1.1 clients written on
/// the package's own codec (blocking sockets, a window of QoS 1 messages in flight, batched
/// writes), so the publishing side costs the same in both.
///
/// Printed: `listener_msgs_per_s`, `ceiling_msgs_per_s` and their ratio; `ack_p50_ms`/`ack_p99_ms`
/// (QoS 1: each PUBLISH written to its PUBACK read, as the devices see it); `cpu_us_per_msg`, the
/// CPU of every thread but the publishers' while the listener ran, per message (the daemon's
/// side: the event loop, the log's background thread, the watchers); `peak_rss_bytes` after the
/// listener run.
public enum ListenerBenchmark {
  public struct Options: Sendable {
    public var broker: String
    public var directory: String
    public var messages: Int
    public var payloadBytes: Int
    public var qos: Int
    public var publishers: Int
    public var partitions: Int
    public var fsync: FsyncPolicy
    public var window: Int

    public init(
      broker: String, directory: String, messages: Int, payloadBytes: Int = 100, qos: Int = 1, publishers: Int = 2,
      partitions: Int = 6, fsync: FsyncPolicy = .default, window: Int = 1000
    ) {
      self.broker = broker
      self.directory = directory
      self.messages = messages
      self.payloadBytes = payloadBytes
      self.qos = qos
      self.publishers = publishers
      self.partitions = partitions
      self.fsync = fsync
      self.window = window
    }
  }

  struct PhaseResult {
    var seconds: Double
    var received: Int
    var latenciesNs: [Int64] = []
    var cpuSeconds: Double = 0
  }

  public static func run(_ o: Options, progress: @escaping @Sendable (String) -> Void) async throws -> String {
    guard (0...1).contains(o.qos) else { throw BenchmarkError("--qos: 0 or 1") }
    guard o.window <= 1024 else { throw BenchmarkError("--window: at most the listener's receive maximum, 1024") }
    progress("listener: \(o.messages) messages from \(o.publishers) publishers into a \(o.partitions)-partition log")
    let listener = try await listenerRun(o)
    let rss = RulesBenchmark.peakResidentSetBytes()
    var ceiling: PhaseResult?
    if !o.broker.isEmpty {
      guard let url = MQTTClientConfig.parseURL(o.broker), !url.tls else {
        throw BenchmarkError("cannot read the broker URL '\(o.broker)' (mqtt://host:port)")
      }
      progress("ceiling: the same publishers through mosquitto to a bare subscriber")
      ceiling = try ceilingRun(o, host: url.host, port: url.port)
    }
    let json = JSONWriter.object()
    json.add("benchmark", "listener")
    json.add("messages", o.messages)
    json.add("payload_bytes", o.payloadBytes)
    json.add("qos", o.qos)
    json.add("publishers", o.publishers)
    json.add("partitions", o.partitions)
    json.add("fsync", "\(o.fsync)")
    json.add("listener_received", listener.received)
    let rate = Double(listener.received) / listener.seconds
    json.add("listener_msgs_per_s", rate.rounded())
    if let ceiling {
      let c = Double(ceiling.received) / ceiling.seconds
      json.add("ceiling_received", ceiling.received)
      json.add("ceiling_msgs_per_s", c.rounded())
      json.add("listener_vs_ceiling", (rate / c * 1000).rounded() / 1000)
    }
    if !listener.latenciesNs.isEmpty {
      let sorted = listener.latenciesNs.sorted()
      func percentile(_ p: Double) -> Double {
        Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1e6
      }
      json.add("ack_p50_ms", (percentile(0.5) * 100).rounded() / 100)
      json.add("ack_p99_ms", (percentile(0.99) * 100).rounded() / 100)
    }
    json.add("cpu_us_per_msg", (listener.cpuSeconds / Double(max(1, listener.received)) * 1e8).rounded() / 100)
    json.add("peak_rss_bytes", rss)
    return json.result
  }

  // MARK: The listener

  static func listenerRun(_ o: Options) async throws -> PhaseResult {
    let dir = o.directory + "/weir-bench-listener-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "weir.bench")
    logger.logLevel = .warning
    let store = try LogStore.open(
      directory: dir, options: LogOptions(minFreeBytes: 0, metadataReserveBytes: 0), logger: logger)
    defer { try? store.close() }
    var topic = TopicConfig(fsync: o.fsync)
    topic.partitions = o.partitions
    let telemetry = try store.createTopic("telemetry", config: topic)
    let config = ListenerConfig(
      name: "bench", host: "127.0.0.1", port: 0, anonymous: true,
      routes: [
        MQTTSubscription(
          filter: "sensors/+/telemetry", topic: "telemetry", key: .topicLevel(1), format: .json, timeField: ["ts"])
      ])
    let listener = MQTTListener(config: config, store: store, logger: logger)
    let running = Task { try await listener.runUntilStopped() }
    defer { listener.stop() }
    var port: Int?
    for _ in 0..<1000 {
      port = listener.boundPort
      if port != nil { break }
      try await Task.sleep(for: .milliseconds(5))
    }
    guard let port else { throw BenchmarkError("the listener did not start") }
    func inLog() -> Int { telemetry.partitions.reduce(0) { $0 + Int($1.highWatermark) } }
    let cpuBefore = nonPublisherCPUSeconds()
    let start = Monotonic.nanoseconds()
    let published = try publish(o, host: "127.0.0.1", port: port)
    // QoS 0 is never acknowledged: the run ends when the log holds every message durably.
    while inLog() < o.messages && Monotonic.nanoseconds() - start < 600_000_000_000 {
      try await Task.sleep(for: .milliseconds(1))
    }
    let seconds = Double(Monotonic.nanoseconds() - start) / 1e9
    let cpu = nonPublisherCPUSeconds() - cpuBefore
    listener.stop()
    try await running.value
    return PhaseResult(seconds: seconds, received: inLog(), latenciesNs: published.latenciesNs, cpuSeconds: cpu)
  }

  // MARK: The ceiling

  /// The same publishers through mosquitto, to a libmosquitto subscriber that counts and
  /// acknowledges at once (QoS as the publishers').
  static func ceilingRun(_ o: Options, host: String, port: Int) throws -> PhaseResult {
    let subscriber = try IngestBenchmark.subscribedClient(
      host: host, port: port, clientID: "weir-bench-ceiling-\(getpid())", filter: "sensors/+/telemetry",
      qos: Int32(o.qos))
    let counted = Atomic<Int>(0)
    let done = Atomic<Bool>(false)
    let start = Monotonic.nanoseconds()
    let endNs = Atomic<Int64>(0)
    OwnedThread.start(name: "weir-bench-ceiling") {
      while !done.load(ordering: .relaxed) {
        guard let n = try? subscriber.readAvailable(maxMessages: 1000, timeoutMs: 20, onMessage: { _ in }) else {
          break
        }
        try? subscriber.writePending()
        if counted.add(n, ordering: .relaxed).newValue >= o.messages {
          endNs.store(Monotonic.nanoseconds(), ordering: .relaxed)
          break
        }
      }
      done.store(true, ordering: .relaxed)
    }
    _ = try publish(o, host: host, port: port)
    while !done.load(ordering: .relaxed) && Monotonic.nanoseconds() - start < 600_000_000_000 { usleep(1000) }
    done.store(true, ordering: .relaxed)
    usleep(50_000)
    subscriber.disconnect()
    try? subscriber.writePending()
    let end = endNs.load(ordering: .relaxed)
    return PhaseResult(
      seconds: Double((end > 0 ? end : Monotonic.nanoseconds()) - start) / 1e9,
      received: counted.load(ordering: .relaxed))
  }

  // MARK: Publishers

  /// Runs the publishers to `port` until each has sent its share (and, at QoS 1, had it
  /// acknowledged); returns every PUBLISH-to-PUBACK latency.
  static func publish(_ o: Options, host: String, port: Int) throws -> (latenciesNs: [Int64], seconds: Double) {
    let latencies = Mutex<[Int64]>([])
    let start = Monotonic.nanoseconds()
    try OwnedThread.runAll(o.publishers, name: "weir-bench-pub", stackSize: 1 << 20) { p in
      let share = o.messages / o.publishers + (p < o.messages % o.publishers ? 1 : 0)
      let client = try RawPublisher(host: host, port: port, clientID: "weir-bench-\(getpid())-\(p)")
      defer { client.close() }
      let mine = try client.run(
        publisher: p, messages: share, qos: o.qos, window: o.window, payloadBytes: o.payloadBytes)
      latencies.withLock { $0 += mine }
    }
    return (latencies.withLock { $0 }, Double(Monotonic.nanoseconds() - start) / 1e9)
  }

  /// CPU seconds of every thread of this process but the publishers' (`weir-bench-pub-*`).
  static func nonPublisherCPUSeconds() -> Double {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = 0.0
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return 0 }
    for t in tasks {
      guard let comm = try? String(contentsOfFile: "/proc/self/task/\(t)/comm", encoding: .utf8),
        !comm.hasPrefix("weir-bench-pub"),
        let stat = try? String(contentsOfFile: "/proc/self/task/\(t)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      // Fields after the command: state is 3rd; utime and stime are the 14th and 15th.
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { continue }
      total += (u + s) / ticks
    }
    return total
  }
}

/// A raw MQTT 3.1.1 publisher on a blocking socket, on the package's own codec: writes PUBLISHes in
/// batches up to its window, reads PUBACKs as they come. For benchmarks only.
final class RawPublisher {
  private let fd: Int32
  private let out = WeirCore.ByteBuffer(capacity: 128 << 10)
  private var inBuffer = [UInt8](repeating: 0, count: 64 << 10)
  private var inCount = 0

  init(host: String, port: Int, clientID: String) throws {
    fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchmarkError("socket: errno \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr)
    let rc = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard rc == 0 else {
      Glibc.close(fd)
      throw BenchmarkError("connect to \(host):\(port): errno \(errno)")
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    out.removeAll()
    Array(clientID.utf8).withUnsafeBytes {
      Encoder.connect(out, version: .v3_1_1, clientIdentifier: $0, cleanStart: true, keepAliveSeconds: 600)
    }
    try writeAll()
    // CONNACK: 20 02 flags code.
    while inCount < 4 { try readSome(blocking: true) }
    guard inBuffer[0] == 0x20, inBuffer[3] == 0 else { throw BenchmarkError("the server refused the connection") }
    consume(4)
  }

  func close() { Glibc.close(fd) }

  /// Publishes `messages` 100-byte-ish JSON readings (padded to `payloadBytes`) for 16 devices;
  /// at QoS 1 waits for every PUBACK and returns each latency.
  func run(publisher: Int, messages: Int, qos: Int, window: Int, payloadBytes: Int) throws -> [Int64] {
    var latencies: [Int64] = []
    latencies.reserveCapacity(qos == 1 ? messages : 0)
    var sentAt = [Int64](repeating: 0, count: 65_536)
    var next = 0
    var acked = 0
    var inflight = 0
    let payload = [UInt8](repeating: UInt8(ascii: " "), count: max(payloadBytes, 80))
    let topics = (0..<16).map { Array("sensors/p\(publisher)-d\($0)/telemetry".utf8) }
    var body = payload
    let ts = SystemWallClock.milliseconds()
    while next < messages || (qos == 1 && acked < messages) {
      out.removeAll()
      while next < messages && (qos == 0 || inflight < window) && out.count < 64 << 10 {
        let prefix = Array(
          "{\"device\":\"p\(publisher)-d\(next % 16)\",\"seq\":\(next),\"ts\":\(ts),\"v\":21.5,\"pad\":\"".utf8)
        for i in 0..<body.count { body[i] = i < prefix.count ? prefix[i] : UInt8(ascii: "x") }
        body[body.count - 2] = UInt8(ascii: "\"")
        body[body.count - 1] = UInt8(ascii: "}")
        let id = UInt16(next % 65_535 + 1)
        topics[next % 16].withUnsafeBytes { t in
          body.withUnsafeBytes { b in
            Encoder.publish(
              out, version: .v3_1_1, topic: t, payload: b, qos: qos == 1 ? .atLeastOnce : .atMostOnce,
              packetIdentifier: id)
          }
        }
        if qos == 1 {
          sentAt[Int(id)] = Monotonic.nanoseconds()
          inflight += 1
        }
        next += 1
      }
      if out.count > 0 { try writeAll() }
      guard qos == 1 else { continue }
      try readSome(blocking: inflight >= window || next == messages)
      var offset = 0
      while inCount - offset >= 4 {
        guard inBuffer[offset] == 0x40, inBuffer[offset + 1] == 2 else {
          throw BenchmarkError("unexpected packet 0x\(String(inBuffer[offset], radix: 16)) from the server")
        }
        let id = Int(inBuffer[offset + 2]) << 8 | Int(inBuffer[offset + 3])
        latencies.append(Monotonic.nanoseconds() - sentAt[id])
        acked += 1
        inflight -= 1
        offset += 4
      }
      consume(offset)
    }
    if qos == 0 {
      // Everything written reached the server once its PINGRESP comes back.
      out.removeAll()
      Encoder.pingreq(out)
      try writeAll()
      while inCount < 2 { try readSome(blocking: true) }
      consume(2)
    }
    return latencies
  }

  private func writeAll() throws {
    var sent = 0
    let bytes = out.bytes
    while sent < bytes.count {
      let n = write(fd, bytes.baseAddress! + sent, bytes.count - sent)
      if n < 0 {
        if errno == EINTR { continue }
        throw BenchmarkError("write: errno \(errno)")
      }
      sent += n
    }
  }

  private func readSome(blocking: Bool) throws {
    let flags = blocking ? Int32(0) : Int32(MSG_DONTWAIT)
    let n = inBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + inCount, $0.count - inCount, flags) }
    if n < 0 {
      if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
      throw BenchmarkError("read: errno \(errno)")
    }
    if n == 0 { throw BenchmarkError("the server closed the connection") }
    inCount += n
  }

  private func consume(_ n: Int) {
    guard n > 0 else { return }
    inBuffer.withUnsafeMutableBytes { b in
      b.baseAddress!.copyMemory(from: b.baseAddress! + n, byteCount: inCount - n)
    }
    inCount -= n
  }
}
