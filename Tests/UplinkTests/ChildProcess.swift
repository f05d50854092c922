import Foundation
import Synchronization

/// The `weir` executable built beside this test bundle.
func weirExecutable() -> String {
  let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
  return me.deletingLastPathComponent().appendingPathComponent("weir").path
}

var weirIsBuilt: Bool { FileManager.default.isExecutableFile(atPath: weirExecutable()) }

/// A child process whose output lines are collected as they come; killed by its pid when dropped.
final class Child: Sendable {
  let process: Process
  private let lines = Mutex<[String]>([])

  /// Starts `executable`; with `mergeErrors`, its standard error joins the lines too.
  init(_ executable: String, _ arguments: [String], mergeErrors: Bool = false) throws {
    process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    if mergeErrors { process.standardError = out }
    // Children inherit the spawning thread's signal mask, and the cooperative pool's threads
    // block SIGTERM: unblock everything around the spawn so the child can be stopped politely.
    var everything = sigset_t()
    var previous = sigset_t()
    sigemptyset(&everything)
    pthread_sigmask(SIG_SETMASK, &everything, &previous)
    defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
    try process.run()
    let handle = out.fileHandleForReading
    let thread = Thread { [self] in
      var pending = Data()
      while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        pending.append(chunk)
        while let newline = pending.firstIndex(of: 0x0A) {
          let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
          pending = Data(pending[(newline + 1)...])
          self.lines.withLock { $0.append(line) }
        }
      }
    }
    thread.start()
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  var output: [String] { lines.withLock { $0 } }

  /// Waits until a line satisfies `match`; returns it, or nil after `timeout` seconds or exit.
  func waitForLine(timeout: Double, _ match: (String) -> Bool) async throws -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if let line = output.first(where: match) { return line }
      if !process.isRunning, let line = output.first(where: match) { return line }
      if !process.isRunning { return nil }
      try await Task.sleep(nanoseconds: 20_000_000)
    }
    return nil
  }

  func signal(_ number: Int32) { kill(process.processIdentifier, number) }

  /// Waits for the exit on a thread (Process.waitUntilExit blocks).
  func exitStatus() async throws -> (Int32, Process.TerminationReason) {
    let process = self.process
    return try await onThread {
      process.waitUntilExit()
      return (process.terminationStatus, process.terminationReason)
    }
  }
}
