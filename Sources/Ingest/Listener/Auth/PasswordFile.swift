import Crypto
import Synchronization
public import WeirCore

/// The listener's users and their password hashes, in mosquitto's `password_file` format so a
/// file written by `mosquitto_passwd` (or `weir passwd`) serves either broker:
///
/// ```
/// # one user a line
/// sensor-17:$7$101$<salt base64>$<hash base64>
/// legacy:$6$<salt base64>$<hash base64>
/// ```
///
/// `$7$` is PBKDF2-HMAC-SHA512 with its iteration count, `$6$` mosquitto 1.6's salted SHA-512
/// (see ``PasswordHash``). Blank lines and `#` comments are allowed; a user name is what comes
/// before the first `:` and may not be empty, hold a control character or appear twice.
///
/// A derivation at ``defaultIterations`` costs about a millisecond (the listener runs it on a
/// thread pool, not its event loop, via ``verdictWithoutDerivation(user:password:)`` first), so
/// successes are remembered: for each user
/// the SHA-256 of salt and password that last verified. A device reconnecting with the same
/// password then costs one SHA-256 (about 1 µs); a wrong password always costs a full
/// derivation. The memory held is the file's hashes plus at most one 32-byte digest a user (the
/// cache is shared by the copies of a value, behind a `Mutex`, so the struct stays `Sendable`).
/// The digests are a fast hash of the passwords: a process memory dump would expose them to
/// cheaper guessing than the file does, which is the price of not deriving on every reconnect.
public struct PasswordFile: Sendable {
  /// Every user's hash, by user name.
  let hashes: [String: PasswordHash]
  let verified: VerifiedPasswords

  /// The PBKDF2 rounds ``line(user:password:iterations:)`` uses unless told otherwise: 1,000, ten
  /// times mosquitto's 101. Each first CONNECT of a device after a start, and each wrong password,
  /// costs one derivation (the listener runs it off its event loop, at most 64 at once).
  /// Measured here (2 vCPU AMD EPYC, release build, `weir bench passwords`): 101 rounds take
  /// 0.07 ms, 1,000 take 1.0 ms, 10,000 take 8 ms. At 10,000, a thousand devices reconnecting
  /// after a restart cost 8 s of a pool thread, and 125 wrong-password CONNECTs a second keep one
  /// busy; at 1,000 the figures are 1 s and 1,000 a second. The count only slows guessing from a leaked file, which random device passwords
  /// defeat at any count: raise it (`weir passwd --iterations`) where people choose passwords and
  /// few clients connect, and measure with `weir bench passwords` on the gateway's own CPU.
  public static let defaultIterations = 1_000

  init(hashes: [String: PasswordHash]) {
    self.hashes = hashes
    verified = VerifiedPasswords()
  }

  /// The user names in the file, sorted.
  public var users: [String] { hashes.keys.sorted() }

  /// Reads a password file's text; `file` names it in the problems. Every bad line is a
  /// ``ConfigProblem`` at its line (the file is to be refused when there is any); the value holds
  /// the users of the lines that were good.
  public static func parse(_ text: String, file: String) -> (PasswordFile, [ConfigProblem]) {
    var hashes: [String: PasswordHash] = [:]
    var lines: [String: Int] = [:]
    let problems = AuthFileLines.forEach(in: text, file: file, what: "a password file") { number, line in
      guard let colon = line.utf8.firstIndex(of: UInt8(ascii: ":")) else {
        return "expected user:hash (a line written by `weir passwd` or `mosquitto_passwd`)"
      }
      let user = String(line[..<colon])
      if let why = userProblem(user) { return why }
      if let first = lines[user] { return "user '\(user)' is already at line \(first); a user has one line" }
      do throws(PasswordHashProblem) {
        hashes[user] = try PasswordHash(parsing: line[line.utf8.index(after: colon)...])
        lines[user] = number
        return nil
      } catch {
        return "user '\(user)': \(error.message)"
      }
    }
    return (PasswordFile(hashes: hashes), problems)
  }

  /// Reads the password file at `path` (at most ``AuthFileLines/maxFileBytes``); throws every
  /// problem at its line, so the listener is refused at start with all of them.
  public static func load(path: String) throws(ConfigError) -> PasswordFile {
    let text = try ConfigFile.read(path, limit: AuthFileLines.maxFileBytes, what: "a password file")
    let (file, problems) = parse(text, file: path)
    if !problems.isEmpty { throw ConfigError(problems: problems) }
    return file
  }

  /// Whether `password` is `user`'s. Unknown users are refused at once (a user name is not
  /// treated as a secret, as mosquitto does not); otherwise one SHA-256 decides a password that
  /// verified before, and a derivation the rest (see the type's notes on the cache).
  public func verify(user: String, password: some Collection<UInt8>) -> Bool {
    guard let hash = hashes[user] else { return false }
    if let result = password.withContiguousStorageIfAvailable({ verify(user, hash, UnsafeRawBufferPointer($0)) }) {
      return result
    }
    return Array(password).withUnsafeBytes { verify(user, hash, $0) }
  }

  /// The verdict on `password` when it costs no derivation: false for a user the file does not
  /// have, the result for a `$6$` hash (one SHA-512), true for the password that last verified;
  /// nil when a PBKDF2 derivation is needed (``verify(user:password:)``, which the listener runs
  /// off its event loop).
  public func verdictWithoutDerivation(user: String, password: UnsafeRawBufferPointer) -> Bool? {
    guard let hash = hashes[user] else { return false }
    guard case .pbkdf2SHA512 = hash.scheme else { return hash.matches(password) }
    return verified.contains(user, VerifiedPasswords.key(hash.salt, password)) ? true : nil
  }

  private func verify(_ user: String, _ hash: PasswordHash, _ password: UnsafeRawBufferPointer) -> Bool {
    // $6$ is itself a single hash: nothing to save.
    guard case .pbkdf2SHA512 = hash.scheme else { return hash.matches(password) }
    let digest = VerifiedPasswords.key(hash.salt, password)
    if verified.contains(user, digest) { return true }
    guard hash.matches(password) else { return false }
    verified.remember(user, digest)
    return true
  }

  /// A password file line for `user` with `password`: `user:$7$<iterations>$<salt>$<hash>`, with
  /// a random 12-byte salt (as `mosquitto_passwd` writes; both brokers verify it).
  public static func line(
    user: String, password: some Collection<UInt8>, iterations: Int = defaultIterations
  ) throws(PasswordLineError) -> String {
    var salt = [UInt8](repeating: 0, count: 12)
    var random = SystemRandomNumberGenerator()
    for i in salt.indices { salt[i] = random.next() }
    return try line(user: user, password: Array(password), iterations: iterations, salt: salt)
  }

  /// ``line(user:password:iterations:)`` with a given salt (tests).
  static func line(user: String, password: [UInt8], iterations: Int, salt: [UInt8]) throws(PasswordLineError)
    -> String
  {
    if let why = userProblem(user) { throw PasswordLineError(message: why) }
    guard PasswordHash.iterations.contains(iterations) else {
      throw PasswordLineError(
        message: "the iteration count must be from \(PasswordHash.iterations.lowerBound) to "
          + "\(PasswordHash.iterations.upperBound), got \(iterations)")
    }
    let scheme = PasswordHash.Scheme.pbkdf2SHA512(iterations: iterations)
    guard let hash = password.withUnsafeBytes({ PasswordHash.derive(scheme, password: $0, salt: salt) }) else {
      throw PasswordLineError(message: "PBKDF2 failed")
    }
    return user + ":" + PasswordHash(scheme: scheme, salt: salt, hash: hash).text
  }

  /// Why `user` cannot be a password file's user name, or nil: empty, a `:` (it ends the name)
  /// or a control character (a line break would split the line).
  public static func userProblem(_ user: String) -> String? {
    if user.isEmpty { return "the user name is empty" }
    if user.utf8.contains(UInt8(ascii: ":")) {
      return "a user name cannot contain ':' (it separates the name from the hash)"
    }
    if user.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      return "a user name cannot contain a control character"
    }
    return nil
  }
}

/// Why ``PasswordFile/line(user:password:iterations:)`` cannot write a line: a sentence for the
/// operator.
public struct PasswordLineError: Error, CustomStringConvertible {
  public let message: String
  public var description: String { message }
}

/// The passwords that verified, as one SHA-256 of salt and password a user, shared by the copies
/// of a ``PasswordFile``. At most one entry a user of the file (a later success replaces it).
final class VerifiedPasswords: Sendable {
  private let digests = Mutex<[String: SHA256.Digest]>([:])

  /// What is remembered of a password that verified: SHA-256 of the salt and the password.
  static func key(_ salt: [UInt8], _ password: UnsafeRawBufferPointer) -> SHA256.Digest {
    var sha = SHA256()
    sha.update(data: salt)
    sha.update(bufferPointer: password)
    return sha.finalize()
  }

  func contains(_ user: String, _ digest: SHA256.Digest) -> Bool {
    digests.withLock { known in
      guard let saved = known[user] else { return false }
      return PasswordHash.constantTimeEqual(Array(saved), Array(digest))
    }
  }

  func remember(_ user: String, _ digest: SHA256.Digest) {
    digests.withLock { $0[user] = digest }
  }
}
