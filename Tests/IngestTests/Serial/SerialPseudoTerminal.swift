import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A pseudo-terminal pair for playing a serial device: the test owns the master side, the source
/// opens ``slavePath`` (or a symlink to it). posix_openpt, grantpt, unlockpt and ptsname_r are in
/// glibc but hidden from Swift's Glibc module (an XSI feature macro), so they are looked up by name.
final class SerialPseudoTerminal: @unchecked Sendable {
  let master: Int32
  let slavePath: String
  private let lock = NSLock()
  private var closed = false

  private typealias OpenPT = @convention(c) (Int32) -> Int32
  private typealias FDCall = @convention(c) (Int32) -> Int32
  private typealias PtsName = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32

  private static func symbol<T>(_ name: String, as type: T.Type) throws -> T {
    guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else {
      throw SerialTestError("glibc has no \(name)")
    }
    return unsafeBitCast(pointer, to: type)
  }

  init() throws {
    let openpt = try Self.symbol("posix_openpt", as: OpenPT.self)
    let grantpt = try Self.symbol("grantpt", as: FDCall.self)
    let unlockpt = try Self.symbol("unlockpt", as: FDCall.self)
    let ptsname = try Self.symbol("ptsname_r", as: PtsName.self)
    let fd = openpt(O_RDWR | O_NOCTTY)
    guard fd >= 0 else { throw SerialTestError("posix_openpt: errno \(errno)") }
    guard grantpt(fd) == 0, unlockpt(fd) == 0 else {
      Glibc.close(fd)
      throw SerialTestError("grantpt/unlockpt: errno \(errno)")
    }
    var name = [CChar](repeating: 0, count: 128)
    guard ptsname(fd, &name, name.count) == 0 else {
      Glibc.close(fd)
      throw SerialTestError("ptsname_r failed")
    }
    master = fd
    slavePath = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // Raw from the start, so nothing written before the source applies its settings is echoed
    // or translated.
    var t = termios()
    tcgetattr(fd, &t)
    cfmakeraw(&t)
    tcsetattr(fd, TCSANOW, &t)
  }

  deinit { close() }

  /// Closes the master: the device "goes away" (the slave side sees a hang-up).
  func close() {
    lock.lock()
    defer { lock.unlock() }
    guard !closed else { return }
    closed = true
    Glibc.close(master)
  }

  /// Writes all of `bytes` (blocking while the slave's input queue is full).
  func write(_ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress! + done, bytes.count - done) }
      if n > 0 {
        done += n
      } else if n < 0 && (errno == EINTR || errno == EAGAIN) {
        continue
      } else {
        return
      }
    }
  }

  func write(_ text: String) { write(Array(text.utf8)) }

  /// Reads what the source wrote, waiting up to `timeoutMs`; empty when nothing came.
  func read(timeoutMs: Int32, max: Int = 4096) -> [UInt8] {
    var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0)]
    guard poll(&fds, 1, timeoutMs) > 0, fds[0].revents & Int16(POLLIN) != 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: max)
    let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress!, max) }
    return n > 0 ? Array(buffer[0..<n]) : []
  }
}

struct SerialTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
