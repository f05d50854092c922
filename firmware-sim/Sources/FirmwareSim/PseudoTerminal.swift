import CPseudoTerminal
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A pseudo-terminal pair standing in for a UART: the simulator owns the master side, the gateway
/// opens the slave side (through a symlink at a path of our choosing) exactly as it would open
/// `/dev/ttyUSB0`.
///
/// The pair is put in raw mode (no echo, no line editing, no CR/LF translation), 8N1. The simulator
/// also keeps one descriptor of the slave open: without it, the master reads EIO whenever the
/// gateway has the port closed, and the terminal settings reset when the last slave descriptor
/// closes. Writes to the master are non-blocking; when nobody reads and the kernel's buffer is full
/// they are dropped, as bytes on a UART nobody listens to are.
public final class PseudoTerminal {
  /// The master descriptor (the device side).
  public let masterDescriptor: Int32
  /// The slave device path (`/dev/pts/N`).
  public let slavePath: String
  /// The symlink pointing at ``slavePath``, if one was requested; removed on close.
  public let linkPath: String?
  private let keeperDescriptor: Int32
  private var closed = false

  /// Open a pair and, if `link` is given, point a symlink there at the slave (replacing an old
  /// symlink, never a regular file).
  public init(link: String?) throws(SystemError) {
    let master = try Posix.call("posix_openpt") { fws_posix_openpt(O_RDWR | O_NOCTTY) }
    var keeper: Int32 = -1
    do throws(SystemError) {
      try Posix.call("grantpt") { fws_grantpt(master) }
      try Posix.call("unlockpt") { fws_unlockpt(master) }
      var name = [CChar](repeating: 0, count: 128)
      let rc = fws_ptsname_r(master, &name, name.count)
      if rc != 0 { throw SystemError(errno: rc, operation: "ptsname_r") }
      let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      keeper = try Posix.call("open \(path)") { open(path, O_RDWR | O_NOCTTY | O_NONBLOCK) }
      try Self.makeRaw(keeper, path: path)
      let flags = try Posix.call("fcntl F_GETFL") { fcntl(master, F_GETFL) }
      try Posix.call("fcntl F_SETFL O_NONBLOCK") { fcntl(master, F_SETFL, flags | O_NONBLOCK) }
      if let link {
        try Self.replaceSymlink(at: link, pointingTo: path)
      }
      slavePath = path
    } catch {
      if keeper >= 0 { Glibc.close(keeper) }
      Glibc.close(master)
      throw error
    }
    masterDescriptor = master
    keeperDescriptor = keeper
    linkPath = link
  }

  deinit {
    close()
  }

  /// Close both descriptors and remove the symlink.
  public func close() {
    guard !closed else { return }
    closed = true
    if let linkPath { unlink(linkPath) }
    Glibc.close(keeperDescriptor)
    Glibc.close(masterDescriptor)
  }

  /// Write bytes toward the gateway; returns how many the kernel took (0 when its buffer is full).
  @discardableResult
  public func write(_ bytes: [UInt8]) throws(SystemError) -> Int {
    var total = 0
    while total < bytes.count {
      let offset = total
      let written = try Posix.callNonBlocking("write to the pty master") {
        bytes.withUnsafeBytes { Glibc.write(masterDescriptor, $0.baseAddress! + offset, $0.count - offset) }
      }
      guard let written, written > 0 else { break }
      total += written
    }
    return total
  }

  /// Wait up to `timeoutMilliseconds` for bytes from the gateway and return them (empty on timeout).
  public func read(timeoutMilliseconds: Int32) throws(SystemError) -> [UInt8] {
    var descriptor = pollfd(fd: masterDescriptor, events: Int16(POLLIN), revents: 0)
    let ready = try Posix.call("poll the pty master") { poll(&descriptor, 1, timeoutMilliseconds) }
    guard ready > 0, descriptor.revents & Int16(POLLIN) != 0 else { return [] }
    var buffer = [UInt8](repeating: 0, count: 512)
    let count = try Posix.callNonBlocking("read the pty master") {
      buffer.withUnsafeMutableBytes { Glibc.read(masterDescriptor, $0.baseAddress, $0.count) }
    }
    guard let count, count > 0 else { return [] }
    return Array(buffer[0..<count])
  }

  /// Raw mode, 8 data bits, no parity, one stop bit, receiver on; the baud rate is nominal on a pty.
  static func makeRaw(_ descriptor: Int32, path: String) throws(SystemError) {
    var settings = termios()
    try Posix.call("tcgetattr \(path)") { tcgetattr(descriptor, &settings) }
    cfmakeraw(&settings)
    settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
    settings.c_cflag &= ~tcflag_t(PARENB | CSTOPB | CSIZE)
    settings.c_cflag |= tcflag_t(CS8)
    cfsetispeed(&settings, speed_t(B115200))
    cfsetospeed(&settings, speed_t(B115200))
    try Posix.call("tcsetattr \(path)") { tcsetattr(descriptor, TCSANOW, &settings) }
  }

  static func replaceSymlink(at link: String, pointingTo target: String) throws(SystemError) {
    var status = stat()
    if lstat(link, &status) == 0 {
      guard status.st_mode & S_IFMT == S_IFLNK else {
        throw SystemError(errno: EEXIST, operation: "\(link) exists and is not a symlink; not replacing it")
      }
      try Posix.call("unlink \(link)") { unlink(link) }
    }
    try Posix.call("symlink \(link) -> \(target)") { symlink(target, link) }
  }
}
