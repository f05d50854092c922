import Gateway

#if canImport(Glibc)
  import Glibc
#endif

/// Reads the password `weir passwd` sets: on a terminal, asked twice with echo off (prompts on
/// standard error, and echo restored even when a signal ends the process mid-prompt); otherwise
/// one line of standard input. At most ``maxBytes``, the longest password MQTT carries.
enum SecretPrompt {
  static let maxBytes = 65_535

  /// The terminal's settings while echo is off, for the signal handler to put back (a pointer,
  /// not a variable, so the handler makes no exclusivity check that could trap mid-write).
  nonisolated(unsafe) private static let saved = UnsafeMutablePointer<termios>.allocate(capacity: 1)

  static func read() throws(PasswordToolError) -> [UInt8] {
    guard isatty(STDIN_FILENO) == 1 else {
      guard let line = try readLine() else { throw PasswordToolError("no password on standard input") }
      return line
    }
    let first = try ask("Password: ")
    let second = try ask("Reenter password: ")
    guard first == second else { throw PasswordToolError("the passwords do not match") }
    return first
  }

  private static func ask(_ prompt: String) throws(PasswordToolError) -> [UInt8] {
    say(prompt)
    guard tcgetattr(STDIN_FILENO, saved) == 0 else {
      throw PasswordToolError("cannot read the terminal's settings", errno: errno)
    }
    var quiet = saved.pointee
    quiet.c_lflag &= ~tcflag_t(ECHO)
    let signals = [SIGINT, SIGTERM, SIGQUIT, SIGHUP]
    for number in signals {
      signal(number) { number in
        tcsetattr(STDIN_FILENO, TCSAFLUSH, SecretPrompt.saved)
        signal(number, SIG_DFL)
        raise(number)
      }
    }
    guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0 else {
      throw PasswordToolError("cannot turn the terminal's echo off", errno: errno)
    }
    defer {
      tcsetattr(STDIN_FILENO, TCSAFLUSH, saved)
      for number in signals { signal(number, SIG_DFL) }
      say("\n")
    }
    guard let line = try readLine() else { throw PasswordToolError("no password given") }
    return line
  }

  /// One line of standard input without its line break (and a `\r` before it), nil at end of
  /// input before any byte.
  private static func readLine() throws(PasswordToolError) -> [UInt8]? {
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while true {
      let n = Glibc.read(STDIN_FILENO, &byte, 1)
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw PasswordToolError("cannot read the password", errno: errno) }
      if n == 0 {
        if line.isEmpty { return nil }
        break
      }
      if byte == UInt8(ascii: "\n") { break }
      line.append(byte)
      if line.count > maxBytes { throw PasswordToolError("the password is longer than \(maxBytes) bytes") }
    }
    if line.last == UInt8(ascii: "\r") { line.removeLast() }
    return line
  }

  private static func say(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
  }
}
