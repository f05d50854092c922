import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// sd_notify(3) without libsystemd: a datagram to `$NOTIFY_SOCKET` (`READY=1` once serving,
/// `STOPPING=1` when the drain begins, `WATCHDOG=1` while alive), so the unit can be
/// `Type=notify` with `WatchdogSec`. Does nothing when not started by systemd.
enum SystemdNotify {
  /// Whether systemd expects `WATCHDOG=1` (the unit's `WatchdogSec`), for this process. The
  /// status sampler sends it every 5 s, so `WatchdogSec` should be at least 15 s.
  static func watchdogEnabled(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    guard let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 else { return false }
    if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return false }
    return true
  }

  @discardableResult
  static func send(_ state: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
    guard var path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return false }
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let abstract = path.hasPrefix("@")
    if abstract { path.removeFirst() }
    var bytes = Array(path.utf8)
    if abstract { bytes.insert(0, at: 0) }
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard bytes.count < capacity else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in bytes.enumerated() { raw[i] = b }
    }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
    let sent = state.withCString { message in
      withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message, strlen(message), 0, $0, length) }
      }
    }
    return sent >= 0
  }
}
