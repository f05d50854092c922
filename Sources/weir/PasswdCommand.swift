import ArgumentParser
import Foundation
import Gateway
import WeirCore

/// `weir passwd`: mosquitto_passwd for the listener's password file (same format, same flags).
struct PasswdCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "passwd",
    abstract: "Add, change or delete a user of a listener password file (mosquitto_passwd's format).",
    discussion: """
      weir passwd FILE USER          asks for USER's password twice (without echo) on a terminal, or
                                     reads one line from standard input when it is not a terminal
      weir passwd -c FILE USER       creates FILE (or overwrites it) with USER alone
      weir passwd -b FILE USER PASS  takes the password from the command line (it shows in ps and in
                                     the shell's history: for scripts and tests)
      weir passwd -D FILE USER       deletes USER

      Lines are USER:$7$<iterations>$<salt>$<hash> (PBKDF2-HMAC-SHA512, a random 12-byte salt), which
      mosquitto 2.x reads too; other lines are kept as they are. The file is replaced atomically
      (a temporary file in the same directory, fsynced, renamed); a new file is mode 0600, an
      existing one keeps its owner, group and mode, less any permission for others.
      """)

  @Flag(name: [.customShort("c"), .customLong("create")], help: "Create FILE, or overwrite it, with USER alone.")
  var create = false
  @Flag(name: [.customShort("D"), .customLong("delete")], help: "Delete USER from FILE.")
  var delete = false
  @Flag(name: [.customShort("b"), .customLong("batch")], help: "Take the password from the command line.")
  var batch = false
  @Option(help: "PBKDF2 rounds: each first CONNECT of a device costs one derivation on the listener's event loop.")
  var iterations: Int = PasswordTool.defaultIterations

  @Argument(help: "The password file.")
  var file: String
  @Argument(help: "The user name.")
  var user: String
  @Argument(help: "The password (with -b only).")
  var password: String?

  func validate() throws {
    if create && delete { throw ValidationError("-c and -D cannot go together") }
    if delete && (batch || password != nil) { throw ValidationError("-D takes FILE USER only") }
    if batch && password == nil { throw ValidationError("-b needs the password after FILE USER") }
    if !batch && password != nil {
      throw ValidationError("a password on the command line needs -b (without it, weir passwd asks for it)")
    }
  }

  func run() throws {
    do throws(PasswordToolError) {
      let warnings: [ConfigProblem]
      if delete {
        warnings = try PasswordTool.delete(file: file, user: user)
      } else {
        let secret: [UInt8]
        if let password { secret = Array(password.utf8) } else { secret = try SecretPrompt.read() }
        warnings = try PasswordTool.set(
          file: file, user: user, password: secret, create: create, iterations: iterations)
      }
      for warning in warnings {
        FileHandle.standardError.write(
          Data("warning: \(warning) (the listener refuses the file until it is fixed)\n".utf8))
      }
    } catch {
      FileHandle.standardError.write(Data("weir passwd: \(error)\n".utf8))
      throw ExitCode(1)
    }
  }
}
