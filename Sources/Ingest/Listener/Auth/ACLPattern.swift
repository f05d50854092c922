import MQTTWire

/// A `pattern` line whose filter names the client: `%u` stands for its user name and `%c` for
/// its client id, anywhere in a level (`devices/%u/#`, `fleet/%c-state`). Split at parse time
/// into levels of literal and substituted parts, so a connection's filter is put together once
/// (``filter(user:clientID:)``), not re-read. Holds the pattern's text in pieces.
struct ACLPattern: Sendable {
  enum Part: Sendable, Equatable {
    case literal(String)
    case user
    case clientID
  }

  let access: ACLRuleAccess
  /// The filter's levels, each a sequence of parts (`dev-%u` is `[.literal("dev-"), .user]`).
  let levels: [[Part]]

  /// The parts of `filter`, or nil when it names neither `%u` nor `%c` (a literal pattern).
  /// Levels end at each `/` byte and `%u`/`%c` are found by scalar, as mosquitto reads them.
  init?(access: ACLRuleAccess, filter: Substring) {
    let levels = filter.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map {
      Self.parts(Substring($0))
    }
    guard levels.contains(where: { $0.contains(.user) || $0.contains(.clientID) }) else { return nil }
    self.access = access
    self.levels = levels
  }

  private static func parts(_ level: Substring) -> [Part] {
    var parts: [Part] = []
    var literal = ""
    let scalars = level.unicodeScalars
    var i = scalars.startIndex
    while i < scalars.endIndex {
      let next = scalars.index(after: i)
      if scalars[i] == "%", next < scalars.endIndex, scalars[next] == "u" || scalars[next] == "c" {
        if !literal.isEmpty { parts.append(.literal(literal)) }
        literal = ""
        parts.append(scalars[next] == "u" ? .user : .clientID)
        i = scalars.index(after: next)
      } else {
        literal.unicodeScalars.append(scalars[i])
        i = next
      }
    }
    if !literal.isEmpty || parts.isEmpty { parts.append(.literal(literal)) }
    return parts
  }

  /// The pattern's filter with `x` for each substitution: what the parser checks, since a user
  /// name or client id that could make it invalid is refused anyway.
  var sample: String { text(user: "x", clientID: "x") ?? "" }

  /// The filter for one connection, or nil when the pattern does not apply to it. `%u` for an
  /// anonymous client (`user` nil): the pattern does not apply, grant or deny, as in mosquitto.
  /// A value stands in a level only when it is not empty and holds no `/`, `+` or `#` (else
  /// `dev/%u/#` would reach other levels or other users' topics): with one that does not, a grant
  /// matches nothing and a deny takes away everything from that level down (`devices/%u/locked`
  /// becomes `devices/#`), more than it would for any value.
  func filter(user: String?, clientID: String) -> TopicFilter? {
    if user == nil && levels.contains(where: { $0.contains(.user) }) { return nil }
    let user = user.flatMap(Self.usable)
    let clientID = Self.usable(clientID)
    if let text = text(user: user, clientID: clientID) { return TopicFilter(text) }
    guard access == .deny else { return nil }
    var kept: [String] = []
    for parts in levels {
      guard let level = text(of: parts, user: user, clientID: clientID) else { break }
      kept.append(level)
    }
    return TopicFilter((kept + ["#"]).joined(separator: "/"))
  }

  private func text(user: String?, clientID: String?) -> String? {
    var levels: [String] = []
    for parts in self.levels {
      guard let level = text(of: parts, user: user, clientID: clientID) else { return nil }
      levels.append(level)
    }
    return levels.joined(separator: "/")
  }

  private func text(of parts: [Part], user: String?, clientID: String?) -> String? {
    var level = ""
    for part in parts {
      switch part {
      case .literal(let text): level += text
      case .user:
        guard let user else { return nil }
        level += user
      case .clientID:
        guard let clientID else { return nil }
        level += clientID
      }
    }
    return level
  }

  /// `value` when it can stand in a level: not empty, and no `/`, `+` or `#`.
  static func usable(_ value: String) -> String? {
    value.isEmpty
      || value.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "#") })
      ? nil : value
  }
}
