import ArgumentParser
import Foundation
import Gateway
import Payload
import Uplink

/// `weir dev-cluster`: librdkafka's mock Kafka cluster for development, and a consumer to look
/// at what arrived in it.
struct DevClusterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dev-cluster",
    abstract: "Run librdkafka's mock Kafka cluster: a development stand-in, not a real Kafka.",
    subcommands: [Serve.self, Consume.self], defaultSubcommand: Serve.self)

  struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "serve",
      abstract: "Run mock brokers on loopback in the foreground until SIGTERM or SIGINT.")

    @Option(help: "Number of brokers.")
    var brokers: Int = 3
    @Option(help: "Topics to create, as name:partitions,name:partitions.")
    var topics: String = "edge.telemetry:6,edge.alerts:1"
    @Option(help: "Write the bootstrap server list to this file (removed at exit).")
    var bootstrapFile: String?

    func run() async throws {
      let specs = try parseTopics(topics)
      let cluster = try RdKafkaMockCluster(brokers: brokers)
      for (name, partitions) in specs {
        try cluster.createTopic(name, partitions: partitions)
      }
      print(
        "weir dev-cluster: librdkafka \(RdKafkaProducer.version) mock cluster with \(brokers) broker(s). "
          + "DEVELOPMENT STAND-IN, NOT A REAL KAFKA: everything is kept in memory and lost at exit.")
      print("topics: " + specs.map { "\($0.0) (\($0.1) partitions)" }.joined(separator: ", "))
      print("bootstrap: \(cluster.bootstrapServers)")
      if let bootstrapFile {
        let temporary = bootstrapFile + ".tmp-\(getpid())"
        try (cluster.bootstrapServers + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, bootstrapFile) == 0 else {
          throw ValidationError("cannot write \(bootstrapFile): \(String(cString: strerror(errno)))")
        }
        print("bootstrap list written to \(bootstrapFile)")
      }
      fflush(nil)
      let received = await Self.waitForStopSignal()
      // A second signal stops the process at once, should shutting the cluster down hang.
      signal(SIGTERM, SIG_DFL)
      signal(SIGINT, SIG_DFL)
      if let bootstrapFile { unlink(bootstrapFile) }
      print("weir dev-cluster: stopping on signal \(received)")
      withExtendedLifetime(cluster) {}
    }

    /// Returns the first SIGTERM or SIGINT (both are ignored by default from here on).
    static func waitForStopSignal() async -> Int32 {
      await withCheckedContinuation { continuation in
        let once = OneShot(continuation)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
          signal(number, SIG_IGN)
          let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
          source.setEventHandler { once.resume(number) }
          source.resume()
          sources.append(source)
        }
        once.keep(sources)
      }
    }

    private func parseTopics(_ text: String) throws -> [(String, Int)] {
      try text.split(separator: ",").map { item in
        let parts = item.split(separator: ":")
        guard parts.count == 2, let partitions = Int(parts[1]), partitions > 0, !parts[0].isEmpty else {
          throw ValidationError("cannot read topic '\(item)'; write name:partitions, e.g. edge.telemetry:6")
        }
        return (String(parts[0]), partitions)
      }
    }
  }

  struct Consume: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print what arrived in a topic as JSON lines (key, value, partition, offset, timestamp, headers).")

    @Option(help: "Bootstrap servers (host:port,...).")
    var bootstrap: String?
    @Option(help: "Read the bootstrap servers from this file (as written by dev-cluster --bootstrap-file).")
    var bootstrapFile: String?
    @Option(help: "Topic to read.")
    var topic: String
    @Flag(help: "Start at the oldest record instead of only new ones.")
    var fromBeginning = false
    @Option(help: "Stop after this many records.")
    var max: Int?
    @Option(help: "Stop after this many seconds without a new record.")
    var timeout: Double?

    func run() throws {
      var servers = bootstrap
      if servers == nil, let bootstrapFile {
        servers = try String(contentsOfFile: bootstrapFile, encoding: .utf8).trimmingCharacters(
          in: .whitespacesAndNewlines)
      }
      guard let servers, !servers.isEmpty else { throw ValidationError("give --bootstrap or --bootstrap-file") }
      let consumer = try RdKafkaConsumer(bootstrapServers: servers)
      try consumer.assign(topic: topic, partitions: try consumer.partitions(of: topic), fromBeginning: fromBeginning)
      var printed = 0
      var lastRecord = Date()
      while max.map({ printed < $0 }) ?? true {
        do {
          if let record = try consumer.poll(timeoutMs: 200) {
            print(Self.line(record))
            printed += 1
            lastRecord = Date()
            continue
          }
        } catch {
          FileHandle.standardError.write(Data("weir dev-cluster consume: \(error)\n".utf8))
        }
        if let timeout, Date().timeIntervalSince(lastRecord) >= timeout { break }
      }
    }

    static func line(_ record: KafkaConsumedRecord) -> String {
      let json = JSONWriter.object()
      json.add("topic", record.topic)
      json.add("partition", Int64(record.partition))
      json.add("offset", record.offset)
      json.add("timestamp", record.timestamp)
      withBytes(record.key) { json.add("key", bytes: $0) }
      withBytes(record.value) { json.add("value", bytes: $0) }
      let headers = JSONWriter.object()
      for header in record.headers {
        withBytes(header.value) { headers.add(header.name, bytes: $0) }
      }
      json.add("headers", raw: headers.result)
      return json.result
    }

    private static func withBytes(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Void) {
      guard let bytes else { return body(nil) }
      bytes.withUnsafeBytes { body($0) }
    }
  }
}

/// Resumes a continuation once, keeping the signal sources alive until then.
/// `@unchecked Sendable`: `lock` (an `NSLock`) guards `continuation` and `sources`.
private final class OneShot: @unchecked Sendable {
  private let lock = NSLock()
  private var continuation: CheckedContinuation<Int32, Never>?
  private var sources: [any DispatchSourceSignal] = []

  init(_ continuation: CheckedContinuation<Int32, Never>) { self.continuation = continuation }

  func keep(_ sources: [any DispatchSourceSignal]) {
    lock.withLock { self.sources = sources }
  }

  func resume(_ number: Int32) {
    let c = lock.withLock { () -> CheckedContinuation<Int32, Never>? in
      defer { continuation = nil }
      return continuation
    }
    c?.resume(returning: number)
  }
}
