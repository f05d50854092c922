import Foundation
import Testing
import WeirCore

@testable import Ingest

/// A well-formed salt and hash for lines whose hash is not the point.
private let testSalt = Data(repeating: 7, count: 12).base64EncodedString()
private let testHash = Data(repeating: 9, count: 64).base64EncodedString()

/// The listener's password and ACL files (mosquitto's formats) and `weir passwd`: files written by
/// the real `mosquitto_passwd` verify, bad lines are refused at their line, and the ACL's
/// semantics (``AuthFileTests/ACL``).
@Suite struct AuthFileTests {
  static let mosquittoPasswd = "/usr/bin/mosquitto_passwd"
  static var hasMosquittoPasswd: Bool { FileManager.default.isExecutableFile(atPath: mosquittoPasswd) }

  /// Runs `executable` with `arguments` (and `input` on standard input); returns its exit status
  /// and standard error.
  @discardableResult
  static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let errors = Pipe()
    p.standardError = errors
    p.standardOutput = FileHandle.nullDevice
    let stdin = Pipe()
    p.standardInput = input == nil ? FileHandle.nullDevice : stdin
    try p.run()
    if let input {
      stdin.fileHandleForWriting.write(Data(input.utf8))
      try stdin.fileHandleForWriting.close()
    }
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
  }

  @Suite struct Passwords {
    /// `mosquitto_passwd -b -c FILE user pass` (2.0.11) wrote this line.
    static let mosquittoLine =
      "user:$7$101$Hp+eZNUZobnLyBbG$xXT4AtgVAiHrcFjMs0HgAtJPXaVA6yf4NgdUUMmY4K4vJtxLuM5CYUnhLeiLYaQ1pKqiiejDu60tnNjGafj/3g=="

    @Test func aLineMosquittoWroteVerifies() {
      let (file, problems) = PasswordFile.parse(Self.mosquittoLine + "\n", file: "golden")
      #expect(problems.isEmpty)
      #expect(file.verify(user: "user", password: Array("pass".utf8)))
      #expect(!file.verify(user: "user", password: Array("pasS".utf8)))
      #expect(!file.verify(user: "other", password: Array("pass".utf8)))
    }

    @Test(.enabled(if: AuthFileTests.hasMosquittoPasswd), arguments: ["sha512-pbkdf2", "sha512"])
    func filesTheRealMosquittoPasswdWritesVerify(_ hash: String) throws {
      let dir = TempDir()
      let path = dir.path + "/passwd"
      let (status, errors) = try AuthFileTests.run(
        AuthFileTests.mosquittoPasswd, ["-H", hash, "-b", "-c", path, "sensor-1", "s3cret pass"])
      #expect(status == 0, "\(errors)")
      try AuthFileTests.run(AuthFileTests.mosquittoPasswd, ["-H", hash, "-b", path, "sensor-2", "other"])
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.contains(hash == "sha512" ? ":$6$" : ":$7$101$"))
      let file = try PasswordFile.load(path: path)
      #expect(file.users == ["sensor-1", "sensor-2"])
      #expect(file.verify(user: "sensor-1", password: Array("s3cret pass".utf8)))
      #expect(file.verify(user: "sensor-2", password: Array("other".utf8)))
      #expect(!file.verify(user: "sensor-1", password: Array("other".utf8)))
      #expect(!file.verify(user: "sensor-1", password: [UInt8]()))
    }

    @Test func linesItWritesVerifyAndCarryTheirIterations() throws {
      let line = try PasswordFile.line(user: "dev-7", password: Array("hunter2".utf8), iterations: 2_000)
      let fields = line.split(separator: "$")
      #expect(line.hasPrefix("dev-7:$7$2000$") && fields.count == 5)
      #expect(Data(base64Encoded: String(fields[3]))?.count == 12)
      #expect(Data(base64Encoded: String(fields[4]))?.count == 64)
      let other = try PasswordFile.line(user: "dev-8", password: Array("hunter2".utf8))
      #expect(other.hasPrefix("dev-8:$7$\(PasswordFile.defaultIterations)$"))
      #expect(other.split(separator: "$")[3] != fields[3], "a fresh random salt each line")
      let (file, problems) = PasswordFile.parse("# devices\n\n" + line + "\r\n  " + other + "  \n", file: "f")
      #expect(problems.isEmpty, "\(problems)")
      #expect(file.verify(user: "dev-7", password: Array("hunter2".utf8)))
      #expect(file.verify(user: "dev-8", password: ArraySlice("hunter2".utf8)))
      #expect(!file.verify(user: "dev-7", password: Array("hunter3".utf8)))
    }

    /// The cache of successes answers only for the password that verified.
    @Test func aRememberedSuccessAdmitsOnlyItsPassword() throws {
      let line = try PasswordFile.line(user: "u", password: Array("right".utf8), iterations: 500)
      let (file, _) = PasswordFile.parse(line, file: "f")
      let copy = file
      #expect(file.verify(user: "u", password: Array("right".utf8)))
      #expect(copy.verify(user: "u", password: Array("right".utf8)), "copies share what verified")
      #expect(!copy.verify(user: "u", password: Array("wrong".utf8)))
      let salt = try #require(file.hashes["u"]).salt
      #expect(Array("right".utf8).withUnsafeBytes { file.verified.contains("u", VerifiedPasswords.key(salt, $0)) })
      #expect(!Array("wrong".utf8).withUnsafeBytes { file.verified.contains("u", VerifiedPasswords.key(salt, $0)) })
    }

    @Test(arguments: [
      ("plain", "alice:secret", "not a $7$"),
      ("no colon", "alice", "expected user:hash"),
      ("empty user", ":$6$abc$def", "user name is empty"),
      ("bad scheme", "alice:$5$abc$def", "not a $7$"),
      ("7 fields", "alice:$7$101$abc", "$7$<iterations>"),
      ("6 fields", "alice:$6$abc", "$6$<salt base64>"),
      ("zero rounds", "alice:$7$0$\(testSalt)$\(testHash)", "iteration count"),
      ("too many rounds", "alice:$7$10000001$\(testSalt)$\(testHash)", "iteration count"),
      ("huge rounds", "alice:$7$99999999999999999999$\(testSalt)$\(testHash)", "iteration count"),
      ("signed rounds", "alice:$7$+101$\(testSalt)$\(testHash)", "iteration count"),
      ("salt not base64", "alice:$7$101$!!!!$\(testHash)", "salt is not base64"),
      ("hash not base64", "alice:$7$101$\(testSalt)$@@@", "hash is not base64"),
      ("short hash", "alice:$6$\(testSalt)$\(testSalt)", "hash is 12 bytes"),
      ("empty salt", "alice:$6$$\(testHash)", "salt is 0 bytes"),
      ("control", "al\u{1}ce:$6$\(testSalt)$\(testHash)", "control character"),
    ])
    func aBadLineIsAProblemAtItsLine(_ name: String, _ line: String, _ message: String) {
      let text = "# users\nok:$6$\(testSalt)$\(testHash)\n\n" + line + "\nlast:$6$\(testSalt)$\(testHash)\n"
      let (file, problems) = PasswordFile.parse(text, file: "/etc/weir/passwd")
      #expect(problems.count == 1, "\(name): \(problems)")
      #expect(problems.first?.line == 4 && problems.first?.file == "/etc/weir/passwd")
      #expect(problems.first?.message.contains(message) == true, "\(name): \(problems)")
      #expect(problems.first?.message.contains("secret") == false, "a problem never repeats a password")
      #expect(file.users == ["last", "ok"], "the good lines are still read")
    }

    @Test func everyProblemIsReportedAndLoadThrowsThemAll() throws {
      let text = "a:$6$\(testSalt)$\(testHash)\na:$6$\(testSalt)$\(testHash)\nb:plain\n"
      let (_, problems) = PasswordFile.parse(text, file: "f")
      #expect(problems.map(\.line) == [2, 3])
      #expect(problems[0].message.contains("already at line 1"))
      let dir = TempDir()
      let path = dir.path + "/passwd"
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      #expect(throws: ConfigError.self) { try PasswordFile.load(path: path) }
      do {
        _ = try PasswordFile.load(path: path)
      } catch {
        #expect(error.problems.map(\.line) == [2, 3])
        #expect(error.description.contains("\(path):2: user 'a' is already at line 1"))
      }
    }

    @Test func theParserIsBounded() throws {
      let long = "u:" + String(repeating: "A", count: AuthFileLines.maxLineBytes)
      let (_, lineProblems) = PasswordFile.parse("x:$6$\(testSalt)$\(testHash)\n" + long + "\n", file: "f")
      #expect(lineProblems.count == 1 && lineProblems[0].line == 2 && lineProblems[0].message.contains("65535"))
      let big = String(repeating: "# padding\n", count: AuthFileLines.maxFileBytes / 10 + 1)
      let (file, sizeProblems) = PasswordFile.parse(big, file: "f")
      #expect(sizeProblems.count == 1 && sizeProblems[0].line == 0 && sizeProblems[0].message.contains("1 MiB"))
      #expect(file.users.isEmpty)
      let dir = TempDir()
      try big.write(toFile: dir.path + "/big", atomically: true, encoding: .utf8)
      #expect(throws: ConfigError.self) { try PasswordFile.load(path: dir.path + "/big") }
      #expect(throws: ConfigError.self) { try PasswordFile.load(path: dir.path + "/missing") }
      #expect(throws: PasswordLineError.self) { try PasswordFile.line(user: "a:b", password: [1]) }
      #expect(throws: PasswordLineError.self) { try PasswordFile.line(user: "a", password: [1], iterations: 0) }
    }

    @Test func editingKeepsOtherLines() {
      let text = "# fleet\nalpha:old\n\nbeta:old\n"
      #expect(
        PasswordFile.editing(text, user: "alpha", line: "alpha:new") == ("# fleet\nalpha:new\n\nbeta:old\n", true))
      #expect(PasswordFile.editing(text, user: "gamma", line: "gamma:new") == (text + "gamma:new\n", false))
      #expect(PasswordFile.editing(text, user: "beta", line: nil) == ("# fleet\nalpha:old\n\n", true))
      #expect(PasswordFile.editing("# alpha:x\nalpha:1\nalpha:2", user: "alpha", line: nil) == ("# alpha:x\n", true))
      #expect(PasswordFile.editing("", user: "a", line: "a:1") == ("a:1\n", false))
    }
  }

  /// The built `weir passwd`, as an operator runs it.
  @Suite(.serialized) struct Passwd {
    static func weir(_ arguments: [String], input: String? = nil) throws -> (Int32, String) {
      try AuthFileTests.run(weirBinary(), ["passwd"] + arguments, input: input)
    }

    @Test func batchModeWritesAFileThatVerifiesAndDeleteRemovesTheUser() throws {
      let dir = TempDir()
      let path = dir.path + "/passwd"
      var (status, errors) = try Self.weir(["-c", "-b", path, "sensor-1", "first pass", "--iterations", "2000"])
      #expect(status == 0, "\(errors)")
      (status, errors) = try Self.weir(["-b", path, "sensor-2", "second"])
      #expect(status == 0, "\(errors)")
      var attributes = try FileManager.default.attributesOfItem(atPath: path)
      #expect((attributes[.posixPermissions] as? Int) == 0o600)
      var file = try PasswordFile.load(path: path)
      #expect(file.users == ["sensor-1", "sensor-2"])
      #expect(file.verify(user: "sensor-1", password: Array("first pass".utf8)))
      #expect(file.verify(user: "sensor-2", password: Array("second".utf8)))
      #expect(!file.verify(user: "sensor-2", password: Array("first pass".utf8)))
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.contains("sensor-1:$7$2000$") && text.contains("sensor-2:$7$\(PasswordFile.defaultIterations)$"))

      // A new password from standard input (not a terminal) replaces the old one in place.
      (status, errors) = try Self.weir([path, "sensor-1"], input: "changed\n")
      #expect(status == 0, "\(errors)")
      file = try PasswordFile.load(path: path)
      #expect(file.verify(user: "sensor-1", password: Array("changed".utf8)))
      #expect(!file.verify(user: "sensor-1", password: Array("first pass".utf8)))

      (status, errors) = try Self.weir(["-D", path, "sensor-1"])
      #expect(status == 0, "\(errors)")
      file = try PasswordFile.load(path: path)
      #expect(file.users == ["sensor-2"])
      attributes = try FileManager.default.attributesOfItem(atPath: path)
      #expect((attributes[.posixPermissions] as? Int) == 0o600)
      let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
      #expect(left == ["passwd"], "no temporary file is left behind")

      (status, errors) = try Self.weir(["-D", path, "sensor-1"])
      #expect(status == 1 && errors.contains("has no user 'sensor-1'"))
    }

    @Test func mosquittoReadsWhatItWritesAndItKeepsMosquittoLines() throws {
      let dir = TempDir()
      let path = dir.path + "/passwd"
      try (Passwords.mosquittoLine + "\n# kept\n").write(toFile: path, atomically: true, encoding: .utf8)
      let (status, errors) = try Self.weir(["-b", path, "weir-user", "pw"])
      #expect(status == 0, "\(errors)")
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.hasPrefix(Passwords.mosquittoLine + "\n# kept\nweir-user:$7$"))
      let file = try PasswordFile.load(path: path)
      #expect(file.verify(user: "user", password: Array("pass".utf8)))
      #expect(file.verify(user: "weir-user", password: Array("pw".utf8)))
    }

    @Test(arguments: [
      (["-b", "/nonexistent/dir/passwd", "u", "p"], "does not exist"),
      (["-c", "-D", "/tmp/x", "u"], "cannot go together"),
      (["/tmp/x", "u", "p"], "needs -b"),
      (["-b", "/tmp/x", "u"], "-b needs the password"),
      (["-c", "-b", "/tmp/weir-passwd-test-bad", "a:b", "p"], "cannot contain ':'"),
    ])
    func mistakesAreRefusedWithAReason(_ arguments: [String], _ reason: String) throws {
      let (status, errors) = try Self.weir(arguments)
      #expect(status != 0)
      #expect(errors.contains(reason), "\(errors)")
    }
  }
}
