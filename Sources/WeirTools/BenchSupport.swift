import Foundation
import Synchronization
import WeirCore

/// A benchmark that could not produce a trustworthy figure.
public struct BenchmarkError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

final class ManagedCounter: Sendable {
  private let total = Atomic<Int>(0)
  func add(_ n: Int) { total.add(n, ordering: .relaxed) }
  var value: Int { total.load(ordering: .relaxed) }
}

/// Runs `body(i)` on `count` threads at once and rethrows the first error.
func runThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
  try OwnedThread.runAll(count, name: "weir-bench", stackSize: 1 << 20, body)
}

/// The disk's own sequential write speed, measured beside the log: the ceiling for appends.
enum DiskCeiling {
  /// Seconds to write `bytes` to a new file in 1 MiB writes and fsync it.
  static func sequentialWrite(directory: String, bytes: Int64) throws -> Double {
    let path = directory + "/disk-ceiling.tmp"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw BenchmarkError("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer {
      close(fd)
      unlink(path)
    }
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
    defer { buffer.deallocate() }
    memset(buffer, 0x5A, chunk)
    let start = Monotonic.seconds()
    var written: Int64 = 0
    while written < bytes {
      let n = write(fd, buffer, Int(min(Int64(chunk), bytes - written)))
      guard n > 0 else { throw BenchmarkError("write \(path): \(String(cString: strerror(errno)))") }
      written += Int64(n)
    }
    guard fdatasync(fd) == 0 else { throw BenchmarkError("fsync \(path): \(String(cString: strerror(errno)))") }
    return Monotonic.seconds() - start
  }
}
