public import Logging
import MQTTWire
public import Metrics
import NIOCore
import NIOPosix
import NIOSSL
public import PartitionedLog
public import ServiceLifecycle
import Synchronization
public import WeirCore

/// Weir's own MQTT server: devices connect to `weir run` directly, and a QoS 1 PUBACK (QoS 2
/// PUBREC) means the message is durably in the log under the topic's fsync policy (see
/// ``ListenerCore``). MQTT 3.1, 3.1.1 and 5.0.
///
/// One event loop thread (SwiftNIO's, named `weir-listener`... by NIO as `NIO-ELT-...`) serves
/// every connection: reads are large (up to 1 MiB per read, many packets each), each turn of the
/// loop ends in one group commit for all connections, and each connection's acknowledgements leave
/// in one write per durable epoch.
///
/// Subscribers are served from the log (``SessionFeed``), retained messages are kept durably
/// (``RetainedStore``). Not in this release (see docs/listener.md): shared subscriptions, TLS,
/// password and ACL files.
public final class MQTTListener: Sendable {
  public let config: ListenerConfig
  private let store: LogStore
  private let logger: Logger
  private let clock: any WallClock
  private let metrics: ListenerMetrics
  private let state = Mutex<State>(State())
  let statusBox = StatusBox(ListenerStatus())

  /// Connections, clients and records, refreshed at every commit and connection change.
  public var status: ListenerStatus { statusBox.value }

  private struct State {
    var group: MultiThreadedEventLoopGroup?
    var channels: [any Channel] = []
    var boundPort: Int?
    var boundTLSPort: Int?
    var stopRequested = false
    var core: ListenerCore?
  }

  public init(
    config: ListenerConfig, store: LogStore, logger: Logger = Logger(label: "weir.listener"),
    clock: any WallClock = SystemWallClock(), metrics: any MetricsFactory = MetricsSystem.factory
  ) {
    self.config = config
    self.store = store
    self.logger = logger
    self.clock = clock
    self.metrics = ListenerMetrics(listener: config.name, factory: metrics)
  }

  /// The port the listener is bound to once running (the configured one, or the one picked for 0).
  public var boundPort: Int? { state.withLock { $0.boundPort } }
  /// The TLS port once running.
  public var boundTLSPort: Int? { state.withLock { $0.boundTLSPort } }

  /// Binds, serves until ``stop()`` or cancellation, then commits what was read, sends the
  /// acknowledgements that became durable, closes every connection and returns. Throws when it
  /// cannot bind or when the log fails (not when it is merely full).
  public func runUntilStopped() async throws {
    let tlsContext: NIOSSLContext?
    let auth: ListenerAuth
    do {
      tlsContext = try config.tls?.makeContext()
      auth = ListenerAuth(
        passwords: try config.passwordFile.map { path throws in try PasswordFile.load(path: path) },
        acl: try config.aclFile.map { path throws in try ACLFile.load(path: path) })
    } catch {
      throw ListenerError("listener \(config.name): \(error)")
    }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop = group.next()
    let core: ListenerCore
    do {
      core = try await loop.submit { [config, store, logger, clock, metrics, statusBox] in
        try ListenerCore(
          config: config, eventLoop: loop, store: store, logger: logger, clock: clock, metrics: metrics,
          status: statusBox, auth: auth)
      }.get()
    } catch {
      try? await group.shutdownGracefully()
      throw error
    }
    let failed = Mutex<LogError?>(nil)
    func bootstrap(_ tls: NIOSSLContext?) -> ServerBootstrap {
      ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 1024)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelOption(
          .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65_536, maximum: 1 << 20)
        )
        .childChannelInitializer { [config, metrics] channel in
          channel.eventLoop.makeCompletedFuture {
            guard core.connections.count < config.maxConnections else {
              metrics.rejected("max_connections")
              channel.close(promise: nil)
              return
            }
            let remote = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
            if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
            try channel.pipeline.syncOperations.addHandler(
              ListenerConnection(core: core, remote: remote, secure: tls != nil))
          }
        }
    }
    var channels: [any Channel] = []
    do {
      if config.plain { channels.append(try await bootstrap(nil).bind(host: config.host, port: config.port).get()) }
      if let tls = config.tls, let tlsContext {
        channels.append(try await bootstrap(tlsContext).bind(host: tls.host, port: tls.port).get())
      }
    } catch {
      for c in channels { try? await c.close() }
      try? await group.shutdownGracefully()
      throw ListenerError("listener \(config.name): cannot listen: \(error)")
    }
    let stopEarly = state.withLock { s -> Bool in
      s.group = group
      s.channels = channels
      s.boundPort = config.plain ? channels.first?.localAddress?.port : nil
      s.boundTLSPort = config.tls != nil ? channels.last?.localAddress?.port : nil
      s.core = core
      return s.stopRequested
    }
    statusBox.update { $0.listening = true }
    logger.info(
      "listener started",
      metadata: [
        "listener": "\(config.name)",
        "addresses": "\(channels.map { "\($0.localAddress?.ipAddress ?? "?"):\($0.localAddress?.port ?? 0)" })",
        "tls": "\(config.tls.map { "\($0.host):\($0.port)" } ?? "off")",
      ])
    // Acknowledgements wait for the log's flushes: wake the core whenever a partition it writes moves.
    let partitions = routedPartitions()
    let watcher = Task { await LogConsumer.watch(partitions) { loop.execute { core.releaseDurable() } } }
    let sweeper = loop.scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { _ in
      core.expireSessions()
    }
    let saver = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in core.saveState() }
    core.onFailure = { error in
      failed.withLock { $0 = error }
      for c in channels { c.close(promise: nil) }
    }
    if stopEarly { for c in channels { c.close(promise: nil) } }
    await withTaskCancellationHandler {
      for c in channels { try? await c.closeFuture.get() }
    } onCancel: {
      stop()
    }
    // Drain: stop reading, commit, send what became durable, close the connections.
    sweeper.cancel()
    saver.cancel()
    try? await loop.submit {
      for c in core.connections.values { c.setReading(false) }
      core.drain()
      for c in core.connections.values { c.close(.serverShuttingDown, "the gateway is stopping") }
    }.get()
    // The closes above are in flight on the loop: give their DISCONNECTs a moment to leave before
    // the loop goes (a client that does not get one sees a dropped connection, which is also fine).
    try? await Task.sleep(nanoseconds: 50_000_000)
    // The watcher schedules work on the loop: it must be gone before the loop is.
    watcher.cancel()
    await watcher.value
    try? await group.shutdownGracefully()
    state.withLock {
      $0.group = nil
      $0.channels = []
      $0.core = nil
    }
    logger.info("listener stopped", metadata: ["listener": "\(config.name)"])
    let failure = failed.withLock { $0 }
    statusBox.update {
      $0.listening = false
      $0.connections = 0
      $0.clients = []
      if let failure { $0.lastError = "\(failure)" }
    }
    if let failure { throw failure }
  }

  /// Stops accepting and ends ``runUntilStopped()``. Safe from any thread, any number of times.
  public func stop() {
    let channels = state.withLock { s -> [any Channel] in
      s.stopRequested = true
      return s.channels
    }
    for c in channels { c.close(promise: nil) }
  }

  /// Every partition the listener writes (the routes' topics, the catch-all, events, dead
  /// letters) or serves subscribers from (the rules' alerts).
  private func routedPartitions() -> [Partition] {
    config.deliveryTopics.compactMap { store.topic($0) }.flatMap(\.partitions)
  }
}

extension MQTTListener: Service {
  /// ``runUntilStopped()`` as a lifecycle `Service`: graceful shutdown calls ``stop()``.
  public func run() async throws {
    try await withGracefulShutdownHandler(operation: runUntilStopped, onGracefulShutdown: stop)
  }
}

/// What a listener is doing, for status pages and `weir status`.
public struct ListenerStatus: Sendable {
  /// Whether it is bound and accepting.
  public var listening = false
  public var connections = 0
  /// Clients connected now, by client identifier (at most the first 1000).
  public var clients: [String] = []
  /// Records the listener wrote into the log (PUBLISHes, wills and events).
  public var records: Int64 = 0
  public var backPressured = false
  public var lastError: String?
}

/// The listener cannot run as configured.
public struct ListenerError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
