public import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// An executable built beside the test bundle (`weir`, `firmware-sim`).
public func builtExecutable(_ name: String) -> String {
  let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
  var dir = me.deletingLastPathComponent()
  // The bundle may sit in .../debug/weirPackageTests.xctest/...; walk up to the build directory.
  for _ in 0..<4 {
    let candidate = dir.appendingPathComponent(name).path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    dir = dir.deletingLastPathComponent()
  }
  return me.deletingLastPathComponent().appendingPathComponent(name).path
}

/// A child process with its output in a file, stopped by PID (SIGKILL when dropped still running).
public final class ChildProcess: Sendable {
  public let process: Process
  public let logPath: String

  private let ownsLog: Bool

  /// Starts `executable` with `arguments`; `environment` is added to this process's. Standard
  /// output goes to `logPath` (a temporary file when nil), and standard error too with `mergeErrors`
  /// (else to `logPath.err`).
  public init(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String? = nil,
    mergeErrors: Bool = true
  ) throws {
    process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    ownsLog = logPath == nil
    let logPath = logPath ?? NSTemporaryDirectory() + "weir-child-\(UUID().uuidString).log"
    self.logPath = logPath
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    process.standardOutput = log
    if mergeErrors {
      process.standardError = log
    } else {
      _ = FileManager.default.createFile(atPath: logPath + ".err", contents: nil)
      process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath + ".err"))
    }
    // Children inherit the spawning thread's signal mask, and the cooperative pool's threads
    // block SIGTERM: unblock everything around the spawn so the child can be stopped politely.
    var everything = sigset_t()
    var previous = sigset_t()
    sigemptyset(&everything)
    pthread_sigmask(SIG_SETMASK, &everything, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    try process.run()
  }

  deinit {
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    if ownsLog {
      try? FileManager.default.removeItem(atPath: logPath)
      try? FileManager.default.removeItem(atPath: logPath + ".err")
    }
  }

  public var pid: Int32 { process.processIdentifier }
  public var isRunning: Bool { process.isRunning }
  public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

  public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

  /// The complete lines written so far.
  public var lines: [String] {
    let text = output
    var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if !text.hasSuffix("\n") { parts.removeLast() }  // a line still being written
    return parts.filter { !$0.isEmpty }
  }

  /// Waits until a line satisfies `match`; returns it, or nil after `timeout` seconds or the exit.
  public func waitForLine(timeout: Double, _ match: (String) -> Bool) async throws -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let running = process.isRunning
      if let line = lines.first(where: match) { return line }
      if !running { return nil }
      try await Task.sleep(for: .milliseconds(20))
    }
    return nil
  }

  /// Waits for the exit: the status and whether a signal ended it.
  public func exitStatus() async throws -> (Int32, Process.TerminationReason) {
    while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    return (process.terminationStatus, process.terminationReason)
  }

  /// Waits up to `timeout` seconds for the exit; returns the status, or nil if still running.
  public func waitForExit(timeout: Double) async -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
      if Date() > deadline { return nil }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return process.terminationStatus
  }

  /// SIGTERM, then SIGKILL after `grace` seconds.
  @discardableResult
  public func stop(grace: Double = 10) async -> Int32 {
    guard process.isRunning else { return process.terminationStatus }
    signal(SIGTERM)
    if let status = await waitForExit(timeout: grace) { return status }
    signal(SIGKILL)
    process.waitUntilExit()
    return process.terminationStatus
  }
}

/// Waits until `condition` holds, polling every 50 ms; false after `timeout` seconds.
public func eventually(timeout: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if try await condition() { return true }
    try? await Task.sleep(for: .milliseconds(50))
  }
  return try await condition()
}
