import MQTTWire
public import WeirCore

/// Who may publish and receive what on the listener, in mosquitto's `acl_file` format:
///
/// ```
/// # before any user line: the anonymous clients
/// topic read public/#
/// user sensor-17
/// topic write telemetry/sensor-17/#
/// topic deny telemetry/sensor-17/secret
/// pattern readwrite devices/%u/#
/// pattern read fleet/%c/config
/// ```
///
/// `topic [read|write|readwrite|deny] FILTER` adds a rule for the clients of the section it is in
/// (no access word: `readwrite`); `user NAME` starts that user's section (the name is the rest of
/// the line; a user may have several); `pattern [ACCESS] FILTER` applies to every client wherever
/// it stands, with `%u` replaced by the user name and `%c` by the client id. Filters use MQTT's `+`
/// and `#` (``TopicFilter``); the filter is the rest of the line, spaces included. Blank lines and
/// `#` comments are allowed.
///
/// A client's rules are its user's section (the anonymous section without a user name) and the
/// patterns. A `deny` rule that matches refuses; otherwise a rule granting the access that
/// matches allows; no rule, no access. (mosquitto 2.x checks the user's section, denials first,
/// before the patterns, so there a pattern's `deny` cannot take back what a user rule grants;
/// here any deny wins.) A pattern with `%u` does not apply to an anonymous client. A user name
/// or client id that is empty or holds `/`, `+` or `#` never stands in a pattern: a grant using
/// it matches nothing, and a deny using it denies everything from its level down (see
/// ``ACLPattern``), so such a name can neither reach another client's topics nor escape a deny.
///
/// The listener compiles a ``ClientACL`` once a connection (``compiled(user:clientID:)``) and
/// checks each PUBLISH and each delivery with it, without allocating. Holds one ``TopicFilter`` a
/// rule; the file is at most ``AuthFileLines/maxFileBytes``.
public struct ACLFile: Sendable {
  /// What a client asks to do with a topic: publish to it (`write`) or receive from it (`read`).
  public enum Access: Sendable {
    case read, write
  }

  let anonymous: ACLRules
  let users: [String: ACLRules]
  /// The patterns without `%u` or `%c`: the same for every client.
  let literalPatterns: ACLRules
  /// The patterns to fill in for each client, in file order.
  let patterns: [ACLPattern]

  /// Reads an ACL file's text; `file` names it in the problems. Every bad line is a
  /// ``ConfigProblem`` at its line (the file is to be refused when there is any); the value holds
  /// the rules of the lines that were good.
  public static func parse(_ text: String, file: String) -> (ACLFile, [ConfigProblem]) {
    var anonymous = ACLRules()
    var users: [String: ACLRules] = [:]
    var literalPatterns = ACLRules()
    var patterns: [ACLPattern] = []
    var section: String?
    let problems = AuthFileLines.forEach(in: text, file: file, what: "an ACL file") { _, line in
      let (keyword, rest) = AuthFileLines.word(line)
      switch keyword {
      case "user":
        guard !rest.isEmpty else { return "`user` needs a user name" }
        section = String(rest)
        return nil
      case "topic", "pattern":
        let (first, after) = AuthFileLines.word(rest)
        var access = ACLRuleAccess.readwrite
        var filter = rest
        if let word = ACLRuleAccess(rawValue: String(first)) {
          access = word
          filter = after
        }
        guard !filter.isEmpty else {
          return "`\(keyword)` needs a topic filter: \(keyword) [read|write|readwrite|deny] FILTER"
        }
        if keyword == "pattern", let pattern = ACLPattern(access: access, filter: filter) {
          if let why = filterProblem(pattern.sample, as: String(filter)) { return why }
          patterns.append(pattern)
          return nil
        }
        if let why = filterProblem(String(filter), as: String(filter)) { return why }
        let compiled = TopicFilter(String(filter))
        if keyword == "pattern" {
          literalPatterns.add(access, compiled)
        } else if let section {
          users[section, default: ACLRules()].add(access, compiled)
        } else {
          anonymous.add(access, compiled)
        }
        return nil
      default:
        return "unknown keyword '\(keyword.prefix(40))': a line is `topic [ACCESS] FILTER`, `user NAME`, "
          + "`pattern [ACCESS] FILTER` or a # comment"
      }
    }
    let acl = ACLFile(anonymous: anonymous, users: users, literalPatterns: literalPatterns, patterns: patterns)
    return (acl, problems)
  }

  /// Why `text` (the filter as checked; `written` as the file has it) cannot be an ACL rule.
  private static func filterProblem(_ text: String, as written: String) -> String? {
    if text.utf8.starts(with: "$share/".utf8) {
      return
        "an ACL filter names topics, not a shared subscription: leave out $share/{group}/ in '\(written.prefix(80))'"
    }
    return TopicFilter.problem(text).map { "not a topic filter: \($0)" }
  }

  /// Reads the ACL file at `path` (at most ``AuthFileLines/maxFileBytes``); throws every problem
  /// at its line, so the listener is refused at start with all of them.
  public static func load(path: String) throws(ConfigError) -> ACLFile {
    let text = try ConfigFile.read(path, limit: AuthFileLines.maxFileBytes, what: "an ACL file")
    let (acl, problems) = parse(text, file: path)
    if !problems.isEmpty { throw ConfigError(problems: problems) }
    return acl
  }

  /// The rules of one connection: its user's section (the anonymous one for `user` nil) and the
  /// patterns filled in with its user name and client id. Without `%u`/`%c` patterns this only
  /// shares arrays the file already holds; with them it builds their filters once.
  public func compiled(user: String?, clientID: String) -> ClientACL {
    let own = user.map { users[$0] ?? ACLRules() } ?? anonymous
    guard !patterns.isEmpty else { return ClientACL(own: own, patterns: literalPatterns) }
    var filled = literalPatterns
    for pattern in patterns {
      if let filter = pattern.filter(user: user, clientID: clientID) { filled.add(pattern.access, filter) }
    }
    return ClientACL(own: own, patterns: filled)
  }

  /// Whether the client may publish to (`write`) or receive from (`read`) `topic`. For one
  /// message; a connection should hold its ``compiled(user:clientID:)`` rules instead (this
  /// compiles them each call when the file has `%u`/`%c` patterns).
  public func allows(_ access: Access, topic: UnsafeRawBufferPointer, user: String?, clientID: String) -> Bool {
    compiled(user: user, clientID: clientID).allows(access, topic: topic)
  }
}
