public import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A real mosquitto on a free loopback port, started and stopped by PID.
public final class MosquittoBroker {
  public let directory: String
  public private(set) var port: Int
  public let extraConfig: String
  public private(set) var process: Process?

  public init(extraConfig: String = "", port: Int? = nil) throws {
    directory = NSTemporaryDirectory() + "weir-broker-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    // Started as root, mosquitto drops to its own user: it must be able to write its persistence file.
    chmod(directory, 0o777)
    self.port = port ?? Self.freePort()
    self.extraConfig = extraConfig
    // A port found free can be taken before mosquitto binds it: on our own ports, try others.
    var attempt = 1
    while true {
      do {
        try start()
        return
      } catch {
        guard port == nil, attempt < 5 else { throw error }
        attempt += 1
        self.port = Self.freePort()
      }
    }
  }

  deinit {
    if let p = process, p.isRunning {
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
    }
    try? FileManager.default.removeItem(atPath: directory)
  }

  public var url: String { "mqtt://127.0.0.1:\(port)" }

  public func start() throws {
    let config = """
      listener \(port) 127.0.0.1
      allow_anonymous true
      persistence true
      persistence_location \(directory)/
      autosave_interval 1
      max_queued_messages 1000000
      max_queued_bytes 0
      max_inflight_messages 1000
      \(extraConfig)
      """
    try config.write(toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/sbin/mosquitto")
    p.arguments = ["-c", directory + "/mosquitto.conf"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle(forWritingAtPath: "/dev/null")
    // A process spawned from a cooperative-pool thread inherits its blocked signals, and a
    // mosquitto with SIGTERM blocked never stops politely: unblock them around the spawn.
    var unblock = sigset_t()
    var previous = sigset_t()
    sigemptyset(&unblock)
    for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&unblock, s) }
    pthread_sigmask(SIG_UNBLOCK, &unblock, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    try p.run()
    process = p
    let deadline = Date().addingTimeInterval(10)
    while !Self.canConnect(port) {
      if Date() > deadline || !p.isRunning {
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        process = nil
        throw BrokerError("mosquitto did not start on port \(port)")
      }
      usleep(20_000)
    }
  }

  /// SIGTERM (mosquitto saves its persistence file) and wait.
  public func stop() {
    guard let p = process else { return }
    kill(p.processIdentifier, SIGTERM)
    let deadline = Date().addingTimeInterval(10)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    process = nil
  }

  /// Ports handed out in this process, never handed out twice (the kernel may offer one again
  /// as soon as its probe socket closes).
  private static let issued = Mutex<Set<Int>>([])

  /// A loopback port nothing listens on now, and that this process was not given before.
  public static func freePort() -> Int {
    while true {
      let port = probePort()
      if issued.withLock({ $0.insert(port).inserted }) { return port }
    }
  }

  private static func probePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
  }

  public static func canConnect(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
  }
}

public struct BrokerError: Error, CustomStringConvertible {
  public var description: String
  public init(_ d: String) { description = d }
}

