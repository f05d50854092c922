import Logging
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Space set aside on the log's file system for the metadata database, as a preallocated file
/// (`<data_dir>/weir.reserve`). The log can never eat it: free space is measured with the file in
/// place. When SQLite reports the disk full (cursors, recovery points, checkpoints), the file is
/// deleted and the write retried, so the positions that keep acknowledged data safe are always
/// saved; the log then refuses appends until space returns and the reserve is rebuilt.
final class DiskReserve: Sendable {
  let path: String
  let bytes: Int64
  private let present = Atomic<Bool>(false)

  init(directory: String, bytes: Int64) {
    path = directory + "/weir.reserve"
    self.bytes = bytes
    // A reserve left by the previous run counts at once: the first metadata writes of a start on
    // a full disk may need it.
    var st = stat()
    if bytes > 0, stat(path, &st) == 0, Int64(st.st_blocks) * 512 >= bytes {
      present.store(true, ordering: .relaxed)
    }
  }

  /// Whether the reserve is on disk at its full size.
  var isPresent: Bool { bytes == 0 || present.load(ordering: .relaxed) }

  /// Creates (or completes) the reserve file. False when the disk lacks the space; nothing of it
  /// is left behind then.
  @discardableResult
  func restore() -> Bool {
    guard bytes > 0 else { return true }
    if present.load(ordering: .relaxed) { return true }
    do {
      let fd = try Posix.open(path, O_RDWR | O_CREAT)
      defer { Posix.close(fd) }
      do {
        try Posix.allocate(fd, bytes, path)
        try Posix.fdatasync(fd, path: path)
      } catch {
        try? Posix.ftruncate(fd, 0, path)
        throw error
      }
      present.store(true, ordering: .relaxed)
      return true
    } catch {
      try? Posix.unlink(path)
      return false
    }
  }

  /// Deletes the reserve, giving its space to the metadata database. True when it was there.
  func release() -> Bool {
    guard bytes > 0, present.exchange(false, ordering: .relaxed) else { return false }
    try? Posix.unlink(path)
    return true
  }
}
