import Foundation
public import Ingest
public import WeirCore

#if canImport(Glibc)
  import Glibc
#endif

/// `weir passwd`: adds, changes and deletes users of a listener password file (mosquitto's
/// format, ``PasswordFile``), as `mosquitto_passwd` does. The file is replaced atomically: the new
/// text goes to a temporary file in the same directory, which is fsynced and renamed over the old
/// one, and the directory is fsynced; a crash leaves the old file or the new one. A new file is
/// mode 0600; an existing one keeps its owner, group and mode, less any permission for others.
/// Holds the file's text (at most ``AuthFileLines/maxFileBytes``) while it edits.
public enum PasswordTool {
  /// The PBKDF2 rounds a new line gets (``PasswordFile/defaultIterations``).
  public static var defaultIterations: Int { PasswordFile.defaultIterations }

  /// Sets `user`'s password in `file` (`create`: a new file with this user alone, replacing any).
  /// Returns the problems of the file's other lines, which it keeps as they were (warnings: the
  /// listener will refuse the file until they are fixed).
  public static func set(
    file: String, user: String, password: [UInt8], create: Bool, iterations: Int = PasswordFile.defaultIterations
  ) throws(PasswordToolError) -> [ConfigProblem] {
    if let why = PasswordFile.userProblem(user) { throw PasswordToolError(why) }
    guard !password.isEmpty else { throw PasswordToolError("the password is empty") }
    let line: String
    do throws(PasswordLineError) {
      line = try PasswordFile.line(user: user, password: password, iterations: iterations)
    } catch {
      throw PasswordToolError(error.message)
    }
    let old = create ? "" : try read(file)
    let text = PasswordFile.editing(old, user: user, line: line).text
    try write(text, to: file)
    return PasswordFile.parse(text, file: file).1
  }

  /// Deletes `user` from `file`; refuses when the file has no such user. Returns the problems of
  /// the other lines, as ``set(file:user:password:create:iterations:)`` does.
  public static func delete(file: String, user: String) throws(PasswordToolError) -> [ConfigProblem] {
    let (text, found) = PasswordFile.editing(try read(file), user: user, line: nil)
    guard found else { throw PasswordToolError("\(file) has no user '\(user)'") }
    try write(text, to: file)
    return PasswordFile.parse(text, file: file).1
  }

  private static func read(_ file: String) throws(PasswordToolError) -> String {
    guard access(file, F_OK) == 0 else {
      throw PasswordToolError("\(file) does not exist; -c creates it")
    }
    do throws(ConfigError) {
      return try ConfigFile.read(file, limit: AuthFileLines.maxFileBytes, what: "a password file")
    } catch {
      throw PasswordToolError(error.description)
    }
  }

  /// Replaces the file at `path` (or the file a link there points to) with `text`, atomically.
  static func write(_ text: String, to path: String) throws(PasswordToolError) {
    let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    let directory = (target as NSString).deletingLastPathComponent
    var mode: mode_t = 0o600
    var owner: (uid_t, gid_t)?
    if let existing = try? FileManager.default.attributesOfItem(atPath: target),
      let permissions = existing[.posixPermissions] as? Int, let uid = existing[.ownerAccountID] as? Int,
      let gid = existing[.groupOwnerAccountID] as? Int
    {
      mode = mode_t(permissions) & 0o770
      owner = (uid_t(uid), gid_t(gid))
    }
    let temporary = directory + "/." + (target as NSString).lastPathComponent + ".weir-passwd-\(getpid())"
    let fd = try call("create \(temporary)") { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
    var renamed = false
    defer { if !renamed { unlink(temporary) } }
    do {
      defer { close(fd) }
      if let (uid, gid) = owner, fchown(fd, uid, gid) != 0, errno != EPERM {
        throw PasswordToolError("cannot give \(temporary) the owner of \(target)", errno: errno)
      }
      _ = try call("set the mode of \(temporary)") { fchmod(fd, mode) }
      let bytes = Array(text.utf8)
      var done = 0
      while done < bytes.count {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw PasswordToolError("cannot write \(temporary)", errno: n < 0 ? errno : EIO) }
        done += n
      }
      _ = try call("fsync \(temporary)") { fsync(fd) }
    }
    _ = try call("rename \(temporary) to \(target)") { rename(temporary, target) }
    renamed = true
    let dir = try call("open directory \(directory)") { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    defer { close(dir) }
    _ = try call("fsync directory \(directory)") { fsync(dir) }
  }

  /// Runs a system call until it is not interrupted; a result below zero is an error about `what`.
  private static func call(_ what: @autoclosure () -> String, _ body: () -> Int32) throws(PasswordToolError) -> Int32 {
    while true {
      let result = body()
      if result >= 0 { return result }
      if errno == EINTR { continue }
      throw PasswordToolError("cannot \(what())", errno: errno)
    }
  }
}

/// Why `weir passwd` could not do what it was asked: a sentence, and the system's error when one
/// was the cause.
public struct PasswordToolError: Error, CustomStringConvertible {
  public let message: String
  public let errno: Int32?

  public init(_ message: String, errno: Int32? = nil) {
    self.message = message
    self.errno = errno
  }

  public var description: String { errno.map { "\(message): \(String(cString: strerror($0)))" } ?? message }
}
