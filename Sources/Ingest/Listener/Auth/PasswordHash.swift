import Crypto
import CryptoExtras
import Foundation

/// One user's password hash in mosquitto's notation, the part of a password file line after
/// `user:`. Two schemes, both with a 64-byte SHA-512 result:
///
/// - `$7$<iterations>$<salt>$<hash>`: PBKDF2-HMAC-SHA512 of the password with the salt over
///   `iterations` rounds (`mosquitto_passwd`'s default since 2.0, with 101 rounds and 12-byte
///   salts);
/// - `$6$<salt>$<hash>`: SHA-512 of the password followed by the salt (mosquitto 1.6 and
///   earlier; one hash, so a leaked file is cheap to attack: rewrite such lines with `weir passwd`).
///
/// Salt and hash are standard base64 with padding. Holds the salt (at most ``maxSaltBytes``) and
/// the 64-byte hash.
struct PasswordHash: Sendable {
  enum Scheme: Sendable, Equatable {
    case pbkdf2SHA512(iterations: Int)
    case saltedSHA512
  }

  let scheme: Scheme
  let salt: [UInt8]
  let hash: [UInt8]

  /// The rounds a `$7$` line may ask for: at least one, and few enough that one derivation
  /// cannot hold the listener's event loop for more than a few seconds.
  static let iterations = 1...10_000_000
  /// The longest salt read (mosquitto writes 12 bytes).
  static let maxSaltBytes = 64
  /// SHA-512's output, the length of every hash.
  static let hashBytes = 64

  init(scheme: Scheme, salt: [UInt8], hash: [UInt8]) {
    self.scheme = scheme
    self.salt = salt
    self.hash = hash
  }

  /// Reads `text` (`$7$...` or `$6$...`), or says what is wrong with it. The message never
  /// repeats the text: a mistaken line may hold a password in plain text.
  init(parsing text: Substring) throws(PasswordHashProblem) {
    let fields = text.utf8.split(separator: UInt8(ascii: "$"), omittingEmptySubsequences: false).map { Substring($0) }
    guard fields.count >= 2, fields[0].isEmpty, fields[1] == "6" || fields[1] == "7" else {
      throw PasswordHashProblem(
        "the password is not a $7$ (PBKDF2-SHA512) or $6$ (SHA-512) hash; a plain-text password file can be "
          + "converted with `mosquitto_passwd -U FILE`, or set each user with `weir passwd FILE USER`")
    }
    if fields[1] == "7" {
      guard fields.count == 5 else {
        throw PasswordHashProblem("a $7$ hash is $7$<iterations>$<salt base64>$<hash base64>")
      }
      let digits = fields[2]
      guard !digits.isEmpty, digits.utf8.count <= 9, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
        let count = Int(digits), Self.iterations.contains(count)
      else {
        throw PasswordHashProblem(
          "the iteration count must be a whole number from \(Self.iterations.lowerBound) to \(Self.iterations.upperBound), "
            + "got '\(digits.prefix(20))'")
      }
      scheme = .pbkdf2SHA512(iterations: count)
    } else {
      guard fields.count == 4 else { throw PasswordHashProblem("a $6$ hash is $6$<salt base64>$<hash base64>") }
      scheme = .saltedSHA512
    }
    let saltText = fields[fields.count - 2]
    guard let salt = Data(base64Encoded: String(saltText)) else {
      throw PasswordHashProblem("the salt is not base64")
    }
    guard (1...Self.maxSaltBytes).contains(salt.count) else {
      throw PasswordHashProblem("the salt is \(salt.count) bytes; it must have 1 to \(Self.maxSaltBytes)")
    }
    guard let hash = Data(base64Encoded: String(fields[fields.count - 1])) else {
      throw PasswordHashProblem("the hash is not base64")
    }
    guard hash.count == Self.hashBytes else {
      throw PasswordHashProblem("the hash is \(hash.count) bytes; a SHA-512 hash has \(Self.hashBytes)")
    }
    self.salt = Array(salt)
    self.hash = Array(hash)
  }

  /// The hash as a password file writes it (`$7$101$<salt>$<hash>`).
  var text: String {
    let salt = Data(salt).base64EncodedString()
    let hash = Data(hash).base64EncodedString()
    switch scheme {
    case .pbkdf2SHA512(let iterations): return "$7$\(iterations)$\(salt)$\(hash)"
    case .saltedSHA512: return "$6$\(salt)$\(hash)"
    }
  }

  /// The hash of `password` with this salt and scheme (64 bytes), or nil when the derivation
  /// fails (it does not for the parameters ``init(parsing:)`` accepts).
  static func derive(_ scheme: Scheme, password: UnsafeRawBufferPointer, salt: [UInt8]) -> [UInt8]? {
    switch scheme {
    case .pbkdf2SHA512(let iterations):
      // The checked `rounds:` wants at least 210,000, far above what mosquitto writes (101).
      guard
        let key = try? KDF.Insecure.PBKDF2.deriveKey(
          from: password, salt: salt, using: .sha512, outputByteCount: hashBytes, unsafeUncheckedRounds: iterations)
      else { return nil }
      return key.withUnsafeBytes { Array($0) }
    case .saltedSHA512:
      var sha = SHA512()
      sha.update(bufferPointer: password)
      sha.update(data: salt)
      return Array(sha.finalize())
    }
  }

  /// Whether `password` hashes to this hash; the comparison takes the same time wherever the
  /// bytes differ.
  func matches(_ password: UnsafeRawBufferPointer) -> Bool {
    guard let derived = Self.derive(scheme, password: password, salt: salt) else { return false }
    return Self.constantTimeEqual(derived, hash)
  }

  /// Whether `a` and `b` hold the same bytes, in time that depends only on their lengths.
  static func constantTimeEqual(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
  }
}

/// What is wrong with the hash of a password file line: a sentence for a ``ConfigProblem``.
struct PasswordHashProblem: Error {
  let message: String
  init(_ message: String) { self.message = message }
}
