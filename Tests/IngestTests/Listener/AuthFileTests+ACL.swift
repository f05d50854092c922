import Testing
import WeirCore

@testable import Ingest

extension AuthFileTests {
  /// mosquitto's `acl_file`: sections by user, anonymous rules, `%u`/`%c` patterns, deny first,
  /// and the SUBACK's overlap check.
  @Suite struct ACL {
    static let text = """
      # anonymous clients
      topic read public/#
      topic deny public/internal/#

      user sensor-1
      topic write telemetry/sensor-1/#
      topic   read   config/sensor-1
      topic deny telemetry/sensor-1/secret
      user admin
      topic #
      topic deny $SYS/#
      topic write plant floor/lights
      user sensor-1
      topic read shared/+/state

      pattern readwrite devices/%u/#
      pattern read fleet/%c/config
      pattern write dev-%u/%c
      pattern deny devices/%u/locked
      pattern read broadcast/#
      """

    static func acl() throws -> ACLFile {
      let (acl, problems) = ACLFile.parse(text, file: "acl")
      #expect(problems.isEmpty, "\(problems)")
      return acl
    }

    /// (user, client id, access, topic, allowed)
    @Test(
      arguments: [
        // A user's section, which two `user sensor-1` lines add to.
        ("sensor-1", "c1", .write, "telemetry/sensor-1/temp", true),
        ("sensor-1", "c1", .read, "telemetry/sensor-1/temp", false),
        ("sensor-1", "c1", .read, "config/sensor-1", true),
        ("sensor-1", "c1", .write, "config/sensor-1", false),
        ("sensor-1", "c1", .write, "telemetry/sensor-1/secret", false),
        ("sensor-1", "c1", .read, "shared/a/state", true),
        ("sensor-1", "c1", .write, "telemetry/sensor-2/temp", false),
        ("sensor-1", "c1", .read, "public/news", false),
        // readwrite by default, deny first, `#` leaves `$` topics out, a filter with a space.
        ("admin", "c", .write, "anything/at/all", true),
        ("admin", "c", .read, "$SYS/broker/uptime", false),
        ("admin", "c", .write, "plant floor/lights", true),
        // Anonymous clients: the rules before the first `user` line.
        (nil, "c", .read, "public/news", true),
        (nil, "c", .read, "public/internal/plans", false),
        (nil, "c", .write, "public/news", false),
        (nil, "c", .read, "telemetry/sensor-1/temp", false),
        // A user the file does not name gets the patterns alone.
        ("stranger", "c9", .read, "public/news", false),
        ("stranger", "c9", .write, "devices/stranger/x", true),
        ("stranger", "c9", .read, "devices/stranger", true),
        ("stranger", "c9", .read, "devices/other/x", false),
        ("stranger", "c9", .read, "fleet/c9/config", true),
        ("stranger", "c9", .write, "fleet/c9/config", false),
        ("stranger", "c9", .read, "fleet/c8/config", false),
        ("stranger", "c9", .write, "dev-stranger/c9", true),
        ("stranger", "c9", .write, "dev-stranger/c8", false),
        ("stranger", "c9", .read, "broadcast/all", true),
        // A pattern's deny beats its grant, and a user rule's grant too (here any deny wins).
        ("stranger", "c9", .write, "devices/stranger/locked", false),
        ("admin", "c", .write, "devices/admin/locked", false),
        ("admin", "c", .write, "devices/admin/open", true),
        // %u never matches an anonymous client; %c still does.
        (nil, "c9", .write, "devices//x", false),
        (nil, "c9", .read, "fleet/c9/config", true),
      ] as [(String?, String, ACLFile.Access, String, Bool)])
    func access(_ user: String?, _ client: String, _ access: ACLFile.Access, _ topic: String, _ allowed: Bool) throws {
      let acl = try Self.acl()
      #expect(acl.compiled(user: user, clientID: client).allows(access, topic: topic) == allowed)
      var topic = topic
      #expect(
        topic.withUTF8 { acl.allows(access, topic: UnsafeRawBufferPointer($0), user: user, clientID: client) }
          == allowed)
    }

    /// A user name or client id with `/`, `+` or `#` (or empty) cannot widen a pattern: its grants
    /// match nothing.
    @Test(arguments: [
      ("a/b", "c", "devices/a/b/x", ACLFile.Access.write),
      ("+", "c", "devices/victim/x", .write),
      ("#", "c", "devices/victim/x", .read),
      ("x", "+", "fleet/victim/config", .read),
      ("x", "a/#", "fleet/a/b/config", .read),
      ("", "c", "devices//x", .write),
      ("x", "", "fleet//config", .read),
    ])
    func wildcardsInNamesDoNotWidenPatterns(_ user: String, _ client: String, _ topic: String, _ access: ACLFile.Access)
      throws
    {
      let client = try Self.acl().compiled(user: user, clientID: client)
      #expect(!client.allows(access, topic: topic))
      #expect(client.allows(.read, topic: "broadcast/news"), "patterns without %u/%c still apply")
    }

    @Test func aDenyPatternThatCannotBeFilledInDeniesEverythingBelowIt() throws {
      let text = "topic read devices/#\nuser a/b\ntopic read devices/#\npattern deny devices/%u/locked\n"
      let (acl, problems) = ACLFile.parse(text, file: "f")
      #expect(problems.isEmpty)
      let odd = acl.compiled(user: "a/b", clientID: "c")
      #expect(!odd.allows(.read, topic: "devices/a/b/locked"), "what the deny would take from a/b if it applied")
      #expect(!odd.allows(.read, topic: "devices/x/open"), "devices/%u/locked is devices/# for a/b")
      let anonymous = acl.compiled(user: nil, clientID: "c")
      #expect(anonymous.allows(.read, topic: "devices/a/locked"), "a %u pattern does not apply to anonymous clients")
    }

    /// (user, filter, granted): some read rule overlaps the filter and no deny covers it.
    @Test(
      arguments: [
        ("sensor-1", "config/sensor-1", true),
        ("sensor-1", "config/+", true),
        ("sensor-1", "#", true),
        ("sensor-1", "telemetry/sensor-1/#", false),
        ("sensor-1", "shared/x/+", true),
        ("sensor-1", "$share/g/config/sensor-1", true),
        ("admin", "$SYS/broker/#", false),
        ("admin", "$SYS/#", false),
        ("admin", "a/b/+", true),
        ("stranger", "devices/stranger/#", true),
        ("stranger", "devices/stranger/locked", false),
        ("stranger", "devices/+/locked", true),
        ("stranger", "devices/other/#", false),
        ("stranger", "sport+", false),
        (nil, "public/+", true),
        (nil, "public/internal/#", false),
        (nil, "public/internal/+", false),
        (nil, "public/#", true),
      ] as [(String?, String, Bool)])
    func subscriptions(_ user: String?, _ filter: String, _ granted: Bool) throws {
      let client = try Self.acl().compiled(user: user, clientID: "c")
      #expect(client.allowsSubscribe(filter: filter) == granted, "\(user ?? "anonymous") subscribing to \(filter)")
    }

    /// A `/` followed by a combining mark still ends a level (found by the `acl-file` fuzzer: the
    /// rule and the topic split differently, so reading and subscribing disagreed).
    @Test func levelsEndAtEverySlashByte() {
      let (acl, problems) = ACLFile.parse("topic read fleet/\u{6DC}x\npattern read own/%c/\u{301}\n", file: "f")
      #expect(problems.isEmpty)
      let client = acl.compiled(user: nil, clientID: "c")
      #expect(client.allows(.read, topic: "fleet/\u{6DC}x") && client.allowsSubscribe(filter: "fleet/\u{6DC}x"))
      #expect(client.allows(.read, topic: "own/c/\u{301}") && !client.allows(.read, topic: "own/c\u{301}"))
      #expect(client.allowsSubscribe(filter: "fleet/+") && !client.allowsSubscribe(filter: "fleet"))
    }

    @Test func noRuleMeansNoAccess() {
      let (acl, problems) = ACLFile.parse("# nothing\n\n", file: "f")
      #expect(problems.isEmpty)
      #expect(!acl.compiled(user: "u", clientID: "c").allows(.read, topic: "a"))
      #expect(!acl.compiled(user: nil, clientID: "c").allowsSubscribe(filter: "#"))
    }

    @Test(arguments: [
      ("topic", "needs a topic filter"),
      ("topic read", "needs a topic filter"),
      ("pattern deny", "needs a topic filter"),
      ("user", "needs a user name"),
      ("user   ", "needs a user name"),
      ("topic read a/#/b", "not a topic filter"),
      ("topic sport+", "not a topic filter"),
      ("pattern write dev/%u#", "not a topic filter"),
      ("topic read $share/g/a", "shared subscription"),
      ("allow read a", "unknown keyword 'allow'"),
      ("topicread a", "unknown keyword"),
    ])
    func aBadLineIsAProblemAtItsLine(_ line: String, _ message: String) {
      let (acl, problems) = ACLFile.parse("topic read ok/#\n\n" + line + "\n# end\ntopic read last\n", file: "/etc/acl")
      #expect(problems.count == 1, "\(problems)")
      #expect(problems.first?.line == 3 && problems.first?.file == "/etc/acl")
      #expect(problems.first?.message.contains(message) == true, "\(problems)")
      let anonymous = acl.compiled(user: nil, clientID: "c")
      #expect(anonymous.allows(.read, topic: "ok/x") && anonymous.allows(.read, topic: "last"))
    }

    @Test func theParserIsBounded() throws {
      let long = "topic read " + String(repeating: "a", count: AuthFileLines.maxLineBytes)
      let (_, problems) = ACLFile.parse("user u\n" + long + "\r\ntopic x\n", file: "f")
      #expect(problems.map(\.line) == [2])
      let big = String(repeating: "topic a\n", count: AuthFileLines.maxFileBytes / 8 + 1)
      let (acl, sizeProblems) = ACLFile.parse(big, file: "f")
      #expect(sizeProblems.count == 1 && sizeProblems[0].line == 0)
      #expect(!acl.compiled(user: nil, clientID: "c").allows(.read, topic: "a"))
    }
  }
}
