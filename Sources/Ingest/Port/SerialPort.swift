import SystemPackage
import WeirCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// An open serial device in raw mode with non-blocking I/O. The file descriptor is closed by
/// ``close()`` or when the port is released. Not thread-safe: one source thread owns it.
final class SerialPort {
  let path: String
  let fd: FileDescriptor
  private var isOpen = true

  /// What a wait saw.
  struct Readiness {
    var readable = false
    var writable = false
    /// The device hung up or reported an error; the next read tells which.
    var hangUp = false
    var woken = false
  }

  /// Opens `config.path` and applies the line settings. Throws ``SerialError/Code/deviceGone``
  /// when the device is not there, so the caller retries later.
  init(config: SerialPortConfig) throws(SerialError) {
    path = config.path
    fd = try SerialPosix.openTerminal(config.path)
    do {
      if config.exclusive { try SerialPosix.ioctl(fd, Int32(TIOCEXCL), "take exclusive use of \(path)") }
      try SerialPosix.setAttributes(
        fd, try Self.rawAttributes(config, current: SerialPosix.getAttributes(fd, path)), path)
    } catch {
      SerialPosix.close(fd)
      throw error
    }
  }

  deinit { close() }

  func close() {
    guard isOpen else { return }
    isOpen = false
    SerialPosix.close(fd)
  }

  /// Raw mode (no echo, no line editing, no signals, no CR/LF translation, 8-bit clean), the
  /// configured character format, speed and flow control. `VMIN` 1 with `O_NONBLOCK` makes an
  /// empty read fail with `EAGAIN`, so a read of 0 bytes can only mean a hang-up.
  static func rawAttributes(_ config: SerialPortConfig, current: termios) throws(SerialError) -> termios {
    var t = current
    cfmakeraw(&t)
    let cleared: [tcflag_t] = [
      tcflag_t(CSIZE), tcflag_t(PARENB), tcflag_t(PARODD), tcflag_t(CSTOPB), tcflag_t(CRTSCTS), tcflag_t(CMSPAR),
    ]
    for flag in cleared { t.c_cflag &= ~flag }
    let inputCleared: [tcflag_t] = [
      tcflag_t(IXON), tcflag_t(IXOFF), tcflag_t(IXANY), tcflag_t(INPCK), tcflag_t(ISTRIP), tcflag_t(IGNPAR),
      tcflag_t(PARMRK),
    ]
    for flag in inputCleared { t.c_iflag &= ~flag }
    t.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD)
    switch config.dataBits {
    case 5: t.c_cflag |= tcflag_t(CS5)
    case 6: t.c_cflag |= tcflag_t(CS6)
    case 7: t.c_cflag |= tcflag_t(CS7)
    default: t.c_cflag |= tcflag_t(CS8)
    }
    switch config.parity {
    case .none: break
    case .even: t.c_cflag |= tcflag_t(PARENB)
    case .odd: t.c_cflag |= tcflag_t(PARENB) | tcflag_t(PARODD)
    case .mark: t.c_cflag |= tcflag_t(PARENB) | tcflag_t(PARODD) | tcflag_t(CMSPAR)
    case .space: t.c_cflag |= tcflag_t(PARENB) | tcflag_t(CMSPAR)
    }
    // With parity on, check it; a character with a parity error reaches us as 0 (no IGNPAR, no
    // PARMRK), which the frame's own checksum then rejects.
    if config.parity != .none { t.c_iflag |= tcflag_t(INPCK) }
    if config.stopBits == 2 { t.c_cflag |= tcflag_t(CSTOPB) }
    switch config.flowControl {
    case .none: break
    case .rtsCts: t.c_cflag |= tcflag_t(CRTSCTS)
    case .xonXoff: t.c_iflag |= tcflag_t(IXON) | tcflag_t(IXOFF)
    }
    withUnsafeMutableBytes(of: &t.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    guard let speed = baudConstant(config.baudRate) else {
      throw SerialError(.unsupported, "baud rate \(config.baudRate) is not supported on \(config.path)")
    }
    if cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0 {
      throw SerialError(.unsupported, "set baud rate \(config.baudRate) on \(config.path)", errno: errno)
    }
    return t
  }

  /// The termios speed constant for a rate in bits per second.
  static func baudConstant(_ rate: Int) -> speed_t? {
    let value: Int32
    switch rate {
    case 50: value = B50
    case 75: value = B75
    case 110: value = B110
    case 134: value = B134
    case 150: value = B150
    case 200: value = B200
    case 300: value = B300
    case 600: value = B600
    case 1200: value = B1200
    case 1800: value = B1800
    case 2400: value = B2400
    case 4800: value = B4800
    case 9600: value = B9600
    case 19200: value = B19200
    case 38400: value = B38400
    case 57600: value = B57600
    case 115_200: value = B115200
    case 230_400: value = B230400
    case 460_800: value = B460800
    case 500_000: value = B500000
    case 576_000: value = B576000
    case 921_600: value = B921600
    case 1_000_000: value = B1000000
    case 1_152_000: value = B1152000
    case 1_500_000: value = B1500000
    case 2_000_000: value = B2000000
    case 2_500_000: value = B2500000
    case 3_000_000: value = B3000000
    case 3_500_000: value = B3500000
    case 4_000_000: value = B4000000
    default: return nil
    }
    return speed_t(value)
  }

  /// Reads what has arrived into `buffer`; 0 when nothing has. Throws
  /// ``SerialError/Code/deviceGone`` on hang-up (end of file) and on `EIO`/`ENXIO`.
  @inline(__always)
  func read(into buffer: UnsafeMutableRawBufferPointer) throws(SerialError) -> Int {
    guard let n = try SerialPosix.read(fd, into: buffer, path) else { return 0 }
    if n == 0 { throw SerialError(.deviceGone, "read \(path): the device hung up") }
    return n
  }

  /// Writes what the device accepts now; returns how many bytes that was.
  func write(_ bytes: UnsafeRawBufferPointer) throws(SerialError) -> Int {
    try SerialPosix.write(fd, bytes, path)
  }

  /// Waits until the port is readable (and writable, when asked), `wake` fires, or `timeoutMs`
  /// passes.
  func wait(writable: Bool = false, wake: WakePipe, timeoutMs: Int) throws(SerialError) -> Readiness {
    var fds = [
      pollfd(fd: fd.rawValue, events: writable ? Int16(POLLIN) | Int16(POLLOUT) : Int16(POLLIN), revents: 0),
      pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0),
    ]
    var readiness = Readiness()
    guard try SerialPosix.poll(&fds, timeoutMs: Int32(clamping: max(0, timeoutMs)), path) > 0 else { return readiness }
    let events = fds[0].revents
    readiness.readable = events & Int16(POLLIN) != 0
    readiness.writable = events & Int16(POLLOUT) != 0
    readiness.hangUp = events & (Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)) != 0
    readiness.woken = fds[1].revents != 0
    if events & Int16(POLLNVAL) != 0 { throw SerialError(.deviceGone, "poll \(path): descriptor no longer valid") }
    return readiness
  }

  /// Drops whatever arrived but was not read.
  func discardInput() throws(SerialError) {
    try SerialPosix.discardInput(fd, path)
  }
}
