import MQTTWire
import WeirCore

@testable import Ingest

extension FuzzTargets {
  /// A listener password file's bytes, read as `PasswordFile.load` reads them: every problem has
  /// the file, a line and a message; each user read has a hash that writes back to itself and
  /// refuses a wrong password (checked where the iteration count is small, so a `$7$10000000$`
  /// line cannot hang the run); editing a user out of the text leaves exactly the other users.
  static func passwordFile(_ data: UnsafeRawBufferPointer) {
    guard let text = AuthFileFuzz.text(data) else { return }
    let (file, problems) = PasswordFile.parse(text, file: AuthFileFuzz.name)
    AuthFileFuzz.check(problems, text)
    var verified = 0
    for user in file.users {
      let hash = file.hashes[user]!
      let again = try? PasswordHash(parsing: Substring(hash.text))
      precondition(
        again?.text == hash.text && again?.scheme == hash.scheme && again?.salt == hash.salt, "\(user) reads back")
      precondition(PasswordFile.userProblem(user) == nil, "a user name the parser should refuse: \(user)")
      var cheap = true
      if case .pbkdf2SHA512(let n) = hash.scheme { cheap = n <= 1000 }
      if cheap && verified < 2 {
        verified += 1
        precondition(!file.verify(user: user, password: Array("not \(user)'s password".utf8)))
      }
    }
    guard problems.isEmpty, let gone = file.users.first else { return }
    let edited = PasswordFile.editing(text, user: gone, line: nil)
    precondition(edited.found, "\(gone) is in the text")
    let (rest, restProblems) = PasswordFile.parse(edited.text, file: AuthFileFuzz.name)
    precondition(restProblems.isEmpty, "taking a user out made \(restProblems)")
    precondition(rest.users == Array(file.users.dropFirst()), "editing \(gone) out changed the other users")
  }

  /// A listener ACL file's bytes, read as `ACLFile.load` reads them: every problem has the file,
  /// a line and a message; for a few clients (anonymous, a named user, names with `/`, `+` and
  /// `#`) and topics taken from the input, the file's check agrees with the connection's, and a
  /// SUBSCRIBE to a plain topic is granted exactly when reading it is.
  static func aclFile(_ data: UnsafeRawBufferPointer) {
    guard let text = AuthFileFuzz.text(data) else { return }
    let (acl, problems) = ACLFile.parse(text, file: AuthFileFuzz.name)
    AuthFileFuzz.check(problems, text)
    var words = Set<String>()
    for token in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
      if words.count >= 24 { break }
      if token.utf8.count <= 200 { words.insert(String(token)) }
    }
    let topics = (["a", "a/b", "$SYS/x", "/", "devices/u/x", "fleet/c/config"] + words.sorted()).filter {
      TopicFilter.problem($0) == nil && !TopicFilter($0).hasWildcard && !$0.utf8.starts(with: "$share/".utf8)
    }
    let filters = words.sorted().filter { TopicFilter.problem($0) == nil }.map(TopicFilter.init)
    let someUser = acl.users.keys.sorted().first ?? "u"
    for (user, client) in [(nil, "c"), (someUser, "c"), ("a/b", "+"), ("#", "x/y"), ("u", "")] as [(String?, String)] {
      let compiled = acl.compiled(user: user, clientID: client)
      for (i, topic) in topics.enumerated() {
        // The file's own check compiles the client's rules on each call: a few topics suffice.
        for access in [ACLFile.Access.read, .write] where i < 3 {
          var bytes = topic
          let one = bytes.withUTF8 {
            acl.allows(access, topic: UnsafeRawBufferPointer($0), user: user, clientID: client)
          }
          precondition(one == compiled.allows(access, topic: topic), "the two checks disagree on \(topic)")
        }
        _ = compiled.allows(.write, topic: topic)
        precondition(
          compiled.allowsSubscribe(filter: topic) == compiled.allows(.read, topic: topic),
          "SUBSCRIBE to the plain topic \(topic) and reading it disagree")
      }
      for filter in filters.prefix(8) { _ = compiled.allowsSubscribe(filter: filter.text) }
    }
    for a in filters.prefix(8) {
      precondition(a.covers(a) && a.overlaps(a), "\(a.text) covers itself")
      for b in filters.prefix(8) where a.covers(b) {
        precondition(a.overlaps(b), "\(a.text) covers \(b.text) but does not overlap it")
        for topic in topics where b.matches(topic) {
          precondition(a.matches(topic), "\(a.text) covers \(b.text), which matches \(topic), but does not")
        }
      }
    }
  }
}

/// What the two auth file harnesses share.
enum AuthFileFuzz {
  static let name = "/nonexistent/fuzz/auth"

  /// The input as `ConfigFile.read` decodes it, or nil (with its one located problem checked)
  /// when it is not UTF-8.
  static func text(_ data: UnsafeRawBufferPointer) -> String? {
    do throws(ConfigError) {
      return try ConfigFile.text(Array(data), file: name)
    } catch {
      precondition(error.problems.count == 1 && error.problems[0].line >= 1, "\(error)")
      return nil
    }
  }

  /// Every problem names the file, a line of it (0 only for the file's size) and a reason, in
  /// line order.
  static func check(_ problems: [ConfigProblem], _ text: String) {
    let lines = text.utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    var last = 0
    for p in problems {
      precondition(p.file == name && !p.message.isEmpty, "\(p)")
      precondition((1...lines).contains(p.line) || (p.line == 0 && problems.count == 1), "\(p) of \(lines) lines")
      precondition(p.line > last, "problems out of line order: \(problems)")
      last = p.line
    }
  }
}
