/// One thing wrong with a configuration value: the key it is about and what to do about it. The
/// one shape every configuration type's ``ConfigValidating/problems()`` returns; the gateway's
/// configuration reader reports each at the line of its key, and the initialisers that refuse a
/// configuration throw their ``description``s.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
  /// The key path relative to the validated value, as written in YAML (`baud_rate`,
  /// `slaves[0].registers[2].address`); empty when the problem is the value as a whole.
  public var key: String
  /// A sentence a person can act on.
  public var message: String

  /// A problem with `key` (a path below the validated value); without a key, with the value as
  /// a whole.
  public init(key: String = "", _ message: String) {
    self.key = key
    self.message = message
  }

  /// `key: message`, or the message alone when the key is empty.
  public var description: String { key.isEmpty ? message : key + ": " + message }

  /// The same problem seen from the value holding this one under `prefix` (`port`,
  /// `slaves[0]`): its key becomes `prefix.key`.
  public func prefixed(_ prefix: String) -> ConfigIssue {
    ConfigIssue(key: Self.join(prefix, key), message)
  }

  /// Two key paths as one: `a` + `b` is `a.b`; an empty side leaves the other unchanged.
  public static func join(_ path: String, _ key: String) -> String {
    if path.isEmpty { return key }
    if key.isEmpty { return path }
    return path + "." + key
  }
}

extension Array where Element == ConfigIssue {
  /// Every issue seen from the value holding them under `prefix` (see ``ConfigIssue/prefixed(_:)``).
  public func prefixed(_ prefix: String) -> [ConfigIssue] { map { $0.prefixed(prefix) } }

  /// The issues in one line, `; ` between them: the text of the error an initialiser throws when
  /// it refuses a configuration.
  public var summary: String { map(\.description).joined(separator: "; ") }
}

/// A configuration value that can say what is wrong with it, without side effects: every
/// problem, not only the first, so a file is refused with all its errors at once.
public protocol ConfigValidating {
  /// What is wrong with this value, one ``ConfigIssue`` per problem; empty when it can be used.
  /// Keys are paths below this value as written in YAML.
  func problems() -> [ConfigIssue]
}
