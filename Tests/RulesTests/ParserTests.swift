import Testing
@testable import Rules

@Suite struct ParserTests {
  /// Parses `expression` as the WHERE of a minimal rule and returns its canonical form.
  static func whereClause(_ expression: String) throws -> String {
    let source = "CREATE RULE r AS SELECT count(*) FROM t WHERE \(expression) GROUP BY d, TUMBLING(1m) RAISE ALERT 'x'"
    let (rules, errors) = RuleParser.parse(source, file: "e.sql")
    guard let rule = rules.first, errors.isEmpty else { throw RuleLoadError(errors: errors) }
    return rule.filter!.description
  }

  static let expressions: [(String, String)] = [
    ("a + b * c", "(a + (b * c))"),
    ("(a + b) * c", "((a + b) * c)"),
    ("a - b - c", "((a - b) - c)"),
    ("a / 2 % 3", "((a / 2) % 3)"),
    ("-a * 2", "((-a) * 2)"),
    ("-3 + a", "(-3 + a)"),
    ("a = 1 AND b <> 2 OR c != 3", "(((a = 1) AND (b != 2)) OR (c != 3))"),
    ("a < 1 OR b <= 2 AND c > 3", "((a < 1) OR ((b <= 2) AND (c > 3)))"),
    ("NOT a >= 1", "(NOT (a >= 1))"),
    ("NOT NOT flag", "(NOT (NOT flag))"),
    ("kind IN ('motor', 'pump')", "(kind IN ('motor', 'pump'))"),
    ("kind NOT IN ('fan')", "(kind NOT IN ('fan'))"),
    ("t BETWEEN 10 AND 20 AND ok", "((t BETWEEN 10 AND 20) AND ok)"),
    ("t NOT BETWEEN -1 AND 1", "(t NOT BETWEEN -1 AND 1)"),
    ("x IS NULL", "(x IS NULL)"),
    ("x IS NOT NULL", "(x IS NOT NULL)"),
    ("CASE WHEN a > 1 THEN 'hi' ELSE 'lo' END = 'hi'", "(CASE WHEN (a > 1) THEN 'hi' ELSE 'lo' END = 'hi')"),
    ("CASE kind WHEN 'motor' THEN 1 WHEN 'pump' THEN 2 END = 1", "(CASE kind WHEN 'motor' THEN 1 WHEN 'pump' THEN 2 END = 1)"),
    ("name = 'it''s'", "(name = 'it''s')"),
    ("age < 30s", "(age < 30000ms)"),
    ("age < 10m OR age > 2h", "((age < 600000ms) OR (age > 7200000ms))"),
    ("motor.bearing.temp > 80", "(motor.bearing.temp > 80)"),
    ("axes[0] > axes[2]", "(axes[0] > axes[2])"),
    ("a.b[1].c = 1", "(a.b[1].c = 1)"),
    ("\"end\" = 1", "(\"end\" = 1)"),
    ("`odd name` = 1", "(\"odd name\" = 1)"),
    ("abs(x - 1) > 0.5", "(abs((x - 1)) > 0.5)"),
    ("TRUE AND FALSE OR NULL IS NULL", "((TRUE AND FALSE) OR (NULL IS NULL))"),
    ("x = 1.5e3", "(x = 1500)"),
    ("x = 2.5", "(x = 2.5)"),
  ]

  @Test(arguments: expressions)
  func expression(_ input: String, _ expected: String) throws {
    #expect(try ParserTests.whereClause(input) == expected)
  }

  @Test func fullRule() throws {
    let source = """
      -- the rule from the issue, with every optional clause
      CREATE RULE bearing_wear AS
      SELECT device, rms(vibration) AS vib_rms, slope(vibration) AS vib_trend, count(*)
      FROM telemetry
      WHERE kind = 'motor'  -- motors only
      GROUP BY device, HOPPING(10m, 1m)
      HAVING vib_rms > 7.1 OR time_to_threshold(vibration, 11.2) < 2h
      RAISE ALERT 'warning' MESSAGE 'bearing of {key}: {vib_rms}' CLEAR AFTER 3 WINDOWS
      WITH (lateness = 30s, idle_timeout = 10m, late = 'topic:late-telemetry');
      CREATE RULE b WITH (late = 'drop') AS SELECT max(t) FROM "plant-1" GROUP BY SESSION(5m) RAISE ALERT 'info';
      CREATE RULE c AS SELECT avg(x) FROM plant.line-1 GROUP BY a, b, SLIDING(30s) RAISE ALERT 'info';
      CREATE RULE d AS SELECT avg(x) FROM t GROUP BY COUNT(100), d RAISE ALERT 'info';
      CREATE RULE e AS SELECT avg(x) FROM t GROUP BY TUMBLING(500ms) RAISE ALERT 'info';
      """
    let (rules, errors) = RuleParser.parse(source, file: "f.sql")
    #expect(errors.isEmpty, "\(errors)")
    #expect(rules.map(\.name) == ["bearing_wear", "b", "c", "d", "e"])
    let r = rules[0]
    #expect(r.select.map(\.alias) == ["device", "vib_rms", "vib_trend", "count(*)"])
    #expect(r.topic == "telemetry")
    #expect(r.filter?.description == "(kind = 'motor')")
    #expect(r.groupKeys.map(\.description) == ["device"])
    #expect(r.window == .hopping(size: 600_000, advance: 60_000))
    #expect(r.having?.description == "((vib_rms > 7.1) OR (time_to_threshold(vibration, 11.2) < 7200000ms))")
    #expect(r.alert == AlertSpec(severity: "warning", message: "bearing of {key}: {vib_rms}", clearAfterWindows: 3))
    #expect(r.options == RuleOptions(latenessMilliseconds: 30_000, idleTimeoutMilliseconds: 600_000, late: .topic("late-telemetry")))
    #expect(r.location == SourceLocation(line: 2, column: 1))
    #expect(rules[1].topic == "plant-1")
    #expect(rules[1].window == .session(gap: 300_000))
    #expect(rules[1].groupKeys.isEmpty)
    #expect(rules[2].topic == "plant.line-1")
    #expect(rules[2].groupKeys.count == 2)
    #expect(rules[2].window == .sliding(size: 30_000))
    #expect(rules[3].window == .count(100))
    #expect(rules[4].window == .tumbling(size: 500))
    #expect(rules[4].alert.clearAfterWindows == 1)
  }

  @Test func fingerprintIgnoresLayoutAndComments() {
    let a = RuleParser.parse("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", file: "a")
    let b = RuleParser.parse("create rule r as -- note\n  select max(x)\nfrom t group by TUMBLING( 1m ) raise alert 'x';", file: "b")
    let c = RuleParser.parse("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(2m) RAISE ALERT 'x'", file: "c")
    #expect(a.rules[0].fingerprint.uppercased() == b.rules[0].fingerprint.uppercased())
    #expect(a.rules[0].fingerprint != c.rules[0].fingerprint)
  }

  static let base = "CREATE RULE r AS SELECT max(x) FROM t GROUP BY d, TUMBLING(1m) RAISE ALERT 'x'"

  /// (source, line, column, message) for every syntax and lexical error.
  static let syntaxErrors: [(String, Int, Int, String)] = [
    ("SELECT 1", 1, 1, "expected CREATE to start a rule, found keyword SELECT"),
    ("CREATE TABLE t", 1, 8, "expected RULE after CREATE, found name 'TABLE'"),
    ("CREATE RULE AS", 1, 13, "expected a rule name after CREATE RULE, found keyword AS"),
    ("CREATE RULE r SELECT", 1, 15, "expected AS after the rule name, found keyword SELECT"),
    ("CREATE RULE r AS max(x)", 1, 18, "expected SELECT after AS, found name 'max'"),
    ("CREATE RULE r AS SELECT max(x) t", 1, 32, "expected FROM after the SELECT list, found name 't'"),
    ("CREATE RULE r AS SELECT FROM t", 1, 25, "expected an expression (a field, number, string, duration or function call), found keyword FROM"),
    ("CREATE RULE r AS SELECT max(x) FROM t RAISE ALERT 'x'", 1, 39, "expected GROUP (every rule needs GROUP BY with a window), found keyword RAISE"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP device", 1, 45, "expected BY after GROUP, found name 'device'"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY d RAISE ALERT 'x'", 1, 50, "expected a window in GROUP BY: TUMBLING(size), HOPPING(size, advance), SLIDING(size), SESSION(gap) or COUNT(n), found keyword RAISE"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m), SLIDING(1m) RAISE ALERT 'x'", 1, 72, "a rule has one window; remove the second window here"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(60) RAISE ALERT 'x'", 1, 57, "expected a duration such as 30s, 10m or 2h for the window size of TUMBLING, found number 60"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY HOPPING(10m 1m) RAISE ALERT 'x'", 1, 60, "expected ',' between the size and the advance of HOPPING(size, advance), found duration 1m"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY HOPPING(1m, 10m) RAISE ALERT 'x'", 1, 60, "the advance of HOPPING must not be larger than its size"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY COUNT(0) RAISE ALERT 'x'", 1, 54, "expected a whole number of records (1 to 1000000000) for COUNT, found number 0"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m RAISE ALERT 'x'", 1, 60, "expected ')' to close the window, found keyword RAISE"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(0s) RAISE ALERT 'x'", 1, 57, "the window size of TUMBLING must be longer than 0"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m)", 1, 60, "expected RAISE (every rule ends with RAISE ALERT 'severity'), found end of file"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m) RAISE 'x'", 1, 67, "expected ALERT after RAISE, found string 'x'"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT warning", 1, 73, "expected a severity string such as 'warning', found name 'warning'"),
    ("\(base) CLEAR AFTER 0 WINDOWS", 1, 92, "expected a whole number of windows (1 to 1000000) after CLEAR AFTER, found number 0"),
    ("\(base) CLEAR AFTER 2", 1, 93, "expected WINDOWS after the count, found end of file"),
    ("\(base) MESSAGE 42", 1, 88, "expected a message string after MESSAGE, found number 42"),
    ("\(base) WITH (lateness = 30)", 1, 97, "expected a duration such as 30s for lateness, found number 30"),
    ("\(base) WITH (speed = 1s)", 1, 86, "unknown option 'speed'; the options are lateness, idle_timeout and late"),
    ("\(base) WITH (late = 'keep')", 1, 93, "late must be 'drop' or 'topic:NAME', not 'keep'"),
    ("\(base) WITH (lateness 1s)", 1, 95, "expected '=' after the option name, found duration 1s"),
    ("\(base) extra", 1, 80, "expected ';' or the end of the file after the rule, found name 'extra'"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE a = 'open GROUP BY TUMBLING(1m)", 1, 49, "unterminated string literal; close it with '"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE a # 1", 1, 47, "unexpected character '#'"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE a > 10q", 1, 49, "unknown duration unit 'q' in '10q'; use ms, s, m, h or d"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE a IN 1", 1, 50, "expected '(' after IN, found number 1"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE a BETWEEN 1 OR 2", 1, 57, "expected AND between the bounds of BETWEEN, found keyword OR"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE a IS 1", 1, 50, "expected NULL after IS, found number 1"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE CASE a THEN 1 END", 1, 52, "expected WHEN in CASE, found keyword THEN"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE CASE WHEN a 1 END", 1, 57, "expected THEN after the WHEN condition, found number 1"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE CASE WHEN a THEN 1", 1, 63, "expected END to close CASE, found end of file"),
    ("CREATE RULE r AS SELECT max(x FROM t", 1, 31, "expected ')' to close the arguments of max(...), found keyword FROM"),
    ("CREATE RULE r AS SELECT axes[x] FROM t", 1, 30, "expected an array index (0 to 1000000) inside [ ], found name 'x'"),
    ("CREATE RULE r AS SELECT a. FROM t", 1, 28, "expected a field name after '.' (quote names that are keywords: a.\"end\"), found keyword FROM"),
    ("CREATE RULE r AS SELECT (a FROM t", 1, 28, "expected ')' to close the parenthesis, found keyword FROM"),
    ("CREATE RULE r AS SELECT a AS FROM t", 1, 30, "expected a name after AS, found keyword FROM"),
    ("CREATE RULE r AS SELECT \"open FROM t", 1, 25, "unterminated quoted name; close it with \""),
    ("\(base) WITH lateness = 1s", 1, 85, "expected '(' after WITH, found name 'lateness'"),
    ("\(base) WITH (lateness = 1s", 1, 99, "expected ')' to close WITH (...), found end of file"),
    ("\(base) WITH (idle_timeout = 0s)", 1, 101, "idle_timeout must be longer than 0"),
    ("\(base) WITH (idle_timeout = 'x')", 1, 101, "expected a duration such as 30s, 10m or 2h for idle_timeout, found string 'x'"),
    ("\(base) WITH (late = drop)", 1, 93, "expected 'drop' or 'topic:NAME' for late, found name 'drop'"),
    ("\(base) WITH (late = 'topic:')", 1, 93, "late must be 'drop' or 'topic:NAME', not 'topic:'"),
    ("\(base) WITH (= 1s)", 1, 86, "expected an option name (lateness, idle_timeout or late), found '='"),
    ("CREATE RULE r AS SELECT max(x) FROM GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 37, "expected a topic name after FROM, found keyword GROUP"),
    ("CREATE RULE r AS SELECT max(x) FROM plant. GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 44, "expected the rest of the topic name after '.', found keyword GROUP"),
    ("CREATE RULE r AS SELECT count(* FROM t", 1, 33, "expected ')' after '*', found keyword FROM"),
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE a IN (1, 2 GROUP BY TUMBLING(1m)", 1, 56, "expected ')' to close the IN list, found keyword GROUP"),
    ("CREATE RULE r AS SELECT axes[1 FROM t", 1, 32, "expected ']' to close the array index, found keyword FROM"),
    ("CREATE RULE r AS SELECT \"\" FROM t", 1, 25, "empty quoted name"),
    ("CREATE RULE r AS SELECT x FROM t WHERE x > 1e999999d", 1, 44, "duration '1e999999d' is longer than the limit of 36525d (100 years)"),
    ("\n\n  CREATE RULE r AS\n    SELECT max(x)\n    FORM t", 5, 5, "expected FROM after the SELECT list, found name 'FORM'"),
  ]

  @Test(arguments: syntaxErrors)
  func syntaxError(_ source: String, _ line: Int, _ column: Int, _ message: String) {
    let (rules, errors) = RuleParser.parse(source, file: "bad.sql")
    #expect(rules.isEmpty)
    #expect(errors.count == 1)
    let error = errors.first
    #expect(error?.message == message)
    #expect(error?.line == line)
    #expect(error?.column == column)
    #expect(error?.file == "bad.sql")
    #expect(error?.description == "bad.sql:\(line):\(column): \(message)")
  }

  /// (source, line, column, message) for errors found after parsing, when the rule is checked.
  static let semanticErrors: [(String, Int, Int, String)] = [
    ("CREATE RULE r AS SELECT max(x) FROM t WHERE avg(x) > 1 GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 45, "aggregate function avg() cannot be used in WHERE; conditions on aggregates belong in HAVING"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY max(d), TUMBLING(1m) RAISE ALERT 'x'", 1, 48, "aggregate function max() cannot be used in GROUP BY"),
    ("CREATE RULE r AS SELECT frobnicate(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 25, "unknown function 'frobnicate'; the functions are abs, avg, ceil, coalesce, count, crest_factor, delta, ewma, exp, first, floor, forecast, kurtosis, last, ln, max, min, peak_to_peak, percentile, pow, rate, record_key, record_time, rms, round, skewness, slope, sqrt, stddev, sum, time_to_threshold, variance, zscore"),
    ("CREATE RULE r AS SELECT max(avg(x)) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 29, "aggregate functions cannot be nested; avg(x) is inside max()"),
    ("CREATE RULE r AS SELECT max(x, 2) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 25, "max() takes 1 argument (max(x)), not 2"),
    ("CREATE RULE r AS SELECT percentile(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 25, "percentile() takes 2 arguments (percentile(x, p)), not 1"),
    ("CREATE RULE r AS SELECT percentile(x, 95) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 39, "the p of percentile() is a fraction between 0 and 1 (write 0.95 for the 95th percentile), not 95"),
    ("CREATE RULE r AS SELECT percentile(x, y) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 39, "the p of percentile() must be a constant number or duration, not y"),
    ("CREATE RULE r AS SELECT ewma(x, 0) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 33, "the alpha of ewma() must be greater than 0 and at most 1, not 0"),
    ("CREATE RULE r AS SELECT sum(*) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 25, "only count accepts *; write sum(field)"),
    ("CREATE RULE r AS SELECT pow(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 25, "pow() takes 2 arguments, not 1"),
    ("CREATE RULE r AS SELECT max(x) AS a, min(x) AS a FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 38, "the SELECT list names 'a' twice; give one of them another name with AS"),
    ("CREATE RULE r AS SELECT record_time() FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 1, 25, "record_time() is per record; use it inside an aggregate or in GROUP BY"),
    ("CREATE RULE r AS SELECT max(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x';\nCREATE RULE r AS SELECT min(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'", 2, 1, "a rule named 'r' is already defined in this file; rule names must be unique"),
  ]

  @Test(arguments: semanticErrors)
  func semanticError(_ source: String, _ line: Int, _ column: Int, _ message: String) {
    let (rules, errors) = RuleFile.parse(source, fileName: "bad.sql")
    #expect(errors.count == 1)
    #expect(errors.first?.code == .semantic)
    #expect(errors.first?.message == message)
    #expect(errors.first?.line == line)
    #expect(errors.first?.column == column)
    #expect(errors.first?.rule == "r")
    #expect(rules.count <= 1)
  }

  @Test func oneBrokenRuleDoesNotHideTheOthers() {
    let source = """
      CREATE RULE good1 AS SELECT max(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x';
      CREATE RULE broken AS SELECT max(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT;
      CREATE RULE good2 AS SELECT min(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x';
      CREATE RULE bad 'string' ; CREATE RULE good3 AS SELECT sum(x) FROM t GROUP BY TUMBLING(1m) RAISE ALERT 'x'
      """
    let (rules, errors) = RuleFile.parse(source, fileName: "mixed.sql")
    #expect(rules.map(\.name) == ["good1", "good2", "good3"])
    #expect(errors.map(\.description) == [
      "mixed.sql:2:77: expected a severity string such as 'warning', found ';'",
      "mixed.sql:4:17: expected AS after the rule name, found string 'string'",
    ])
    #expect(errors.map(\.rule) == ["broken", "bad"])
  }
}

@Suite struct HostileInputTests {
  @Test func deeplyNestedExpressionsAreRefusedNotFatal() {
    for body in [
      String(repeating: "(", count: 100_000) + "x",
      String(repeating: "NOT ", count: 100_000) + "x",
      String(repeating: "- ", count: 100_000) + "x",
      Array(repeating: "x", count: 100_000).joined(separator: " + "),
      Array(repeating: "x", count: 100_000).joined(separator: " AND "),
    ] {
      let source = "CREATE RULE r AS SELECT count(*) FROM t WHERE \(body) GROUP BY TUMBLING(1m) RAISE ALERT 'x'"
      let (rules, errors) = RuleFile.parse(source, fileName: "deep.sql")
      #expect(rules.isEmpty)
      #expect(errors.first?.message.contains("simplify it") == true)
    }
  }

  @Test func deeplyNestedPayloadIsMalformedNotFatal() throws {
    let feed = try Feeder("CREATE RULE r AS SELECT count(x) AS n FROM telemetry GROUP BY COUNT(1) RAISE ALERT 'i'")
    feed.send(#"{"skip":"# + String(repeating: "[", count: 100_000) + "}", at: t0)
    #expect(feed.engine.statistics.malformedPayloads == 1)
  }

  @Test func absurdTimestampsAreSkipped() throws {
    let feed = try Feeder("CREATE RULE r AS SELECT count(*) AS n FROM telemetry GROUP BY SESSION(1h) RAISE ALERT 'i'")
    feed.send(#"{"x":1}"#, at: Int64.max)
    feed.send(#"{"x":1}"#, at: Int64.min)
    feed.send(#"{"x":1}"#, at: t0)
    feed.closeAll()
    #expect(feed.engine.statistics.invalidTimestamps == 2)
    #expect(feed.alerts.count == 1)
  }
}

@Suite struct RandomInputTests {
  /// Token soup and byte soup never crash the parser or the payload scanner.
  @Test(arguments: [21, 22, 23] as [UInt64])
  func randomInputIsReportedNotFatal(_ seed: UInt64) throws {
    var random = SeededRandom(seed: seed)
    let vocabulary = [
      "CREATE", "RULE", "r", "AS", "SELECT", "max(x)", "count(*)", "FROM", "t", "WHERE", "GROUP", "BY", "TUMBLING(1m)",
      "HOPPING(", "10m", ",", ")", "(", "HAVING", "RAISE", "ALERT", "'w'", "CLEAR", "AFTER", "3", "WINDOWS", ";",
      "WITH", "lateness", "=", "30s", "AND", "OR", "NOT", "IN", "BETWEEN", "IS", "NULL", "CASE", "WHEN", "THEN",
      "END", "+", "-", "*", "/", "a.b[0]", "'", "\"", "--", "\n", "#", "é", "1e999", "percentile(x, 2)",
    ]
    for _ in 0..<300 {
      let count = Int.random(in: 1...40, using: &random)
      let text = (0..<count).map { _ in vocabulary.randomElement(using: &random)! }.joined(separator: " ")
      let (rules, errors) = RuleFile.parse(text, fileName: "soup.sql")
      #expect(rules.count + errors.count >= 1 || text.allSatisfy { $0 == ";" || $0 == " " || $0 == "\n" } || text.contains("--"))
    }
    let feed = try Feeder("CREATE RULE r AS SELECT avg(a.b[1]) AS x, last(c) AS c FROM telemetry GROUP BY d, COUNT(3) RAISE ALERT 'i'")
    let alphabet = Array("{}[]\":,\\ 0123456789.eE-+truefalsnbcd".utf8)
    for i in 0..<2000 {
      let length = Int.random(in: 0...60, using: &random)
      let bytes = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
      feed.send(String(decoding: bytes, as: UTF8.self), at: t0 + Int64(i))
    }
    #expect(feed.engine.statistics.recordsReceived == 2000)
  }
}
