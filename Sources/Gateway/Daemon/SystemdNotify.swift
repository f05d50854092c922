import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// sd_notify(3) without libsystemd: a datagram to `$NOTIFY_SOCKET` (`READY=1` once serving,
/// `STOPPING=1` when the drain begins), so the unit can be `Type=notify`. Does nothing when
/// not started by systemd.
enum SystemdNotify {
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
