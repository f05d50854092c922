#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The one place the log makes system calls: each retries `EINTR` and throws a ``LogError``
/// carrying `errno` and what was being done (as swift-nio's `Posix` does).
enum Posix {
  static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws(LogError) -> Int32 {
    while true {
      let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
      if fd >= 0 { return fd }
      if errno == EINTR { continue }
      throw LogError(isNoSpace(errno) ? .full : .io, "open \(path)", errno: errno)
    }
  }

  /// A write failed for want of space (blocks, inodes or quota): the log is full, not broken.
  static func isNoSpace(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }

  static func close(_ fd: Int32) {
    _ = Glibc.close(fd)
  }

  /// Writes all of `count` bytes at `offset`, looping over short writes.
  static func pwriteAll(
    _ fd: Int32, _ base: UnsafeRawPointer, _ count: Int, at offset: Int64, _ what: @autoclosure () -> String
  ) throws(LogError) {
    var done = 0
    while done < count {
      let n = Glibc.pwrite(fd, base + done, count - done, off_t(offset) + off_t(done))
      if n > 0 {
        done += n
      } else if n < 0 && errno == EINTR {
        continue
      } else {
        let code = n < 0 ? errno : EIO
        throw LogError(isNoSpace(code) ? .full : .io, "write \(what())", errno: code)
      }
    }
  }

  /// Reads up to `count` bytes at `offset`; returns fewer only at end of file.
  static func pread(
    _ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int, at offset: Int64, _ what: @autoclosure () -> String
  ) throws(LogError) -> Int {
    var done = 0
    while done < count {
      let n = Glibc.pread(fd, base + done, count - done, off_t(offset) + off_t(done))
      if n > 0 {
        done += n
      } else if n == 0 {
        break
      } else if errno == EINTR {
        continue
      } else {
        throw LogError(.io, "read \(what())", errno: errno)
      }
    }
    return done
  }

  /// fdatasyncs the regular file `path`, open as `fd`; notes it in the sync journal when that
  /// test seam is on (see `syncJournal`).
  static func fdatasync(_ fd: Int32, path: String) throws(LogError) {
    // The size before the call: what was written by then is what the call makes durable (an
    // append racing with it may or may not be).
    let size = syncJournal >= 0 ? try? fileSize(fd, path) : nil
    try datasync(fd, path)
    if let size {
      let line = Array("\(size)\t\(path)\n".utf8)
      _ = line.withUnsafeBytes { Glibc.write(syncJournal, $0.baseAddress, $0.count) }
    }
  }

  private static func datasync(_ fd: Int32, _ what: String) throws(LogError) {
    while Glibc.fdatasync(fd) != 0 {
      if errno == EINTR { continue }
      throw LogError(.io, "fsync \(what)", errno: errno)
    }
  }

  /// Allocates `length` bytes of `fd` on disk (zeros written where the file system cannot
  /// allocate without writing), so later writes into them need no new space.
  static func allocate(_ fd: Int32, _ length: Int64, _ what: @autoclosure () -> String) throws(LogError) {
    while true {
      let rc = posix_fallocate(fd, 0, off_t(length))
      if rc == 0 { return }
      if rc == EINTR { continue }
      throw LogError(isNoSpace(rc) ? .full : .io, "allocate \(length) bytes for \(what())", errno: rc)
    }
  }

  static func ftruncate(_ fd: Int32, _ length: Int64, _ what: @autoclosure () -> String) throws(LogError) {
    while Glibc.ftruncate(fd, off_t(length)) != 0 {
      if errno == EINTR { continue }
      throw LogError(.io, "truncate \(what())", errno: errno)
    }
  }

  static func fileSize(_ fd: Int32, _ what: @autoclosure () -> String) throws(LogError) -> Int64 {
    var st = stat()
    if fstat(fd, &st) != 0 { throw LogError(.io, "stat \(what())", errno: errno) }
    return Int64(st.st_size)
  }

  /// Makes a directory's entries (new, renamed or deleted files) durable.
  static func fsyncDirectory(_ path: String) throws(LogError) {
    let fd = try open(path, O_RDONLY | O_DIRECTORY)
    defer { close(fd) }
    try datasync(fd, "directory \(path)")
  }

  /// Creates `path` and its missing parents; each directory made is made durable in its parent
  /// (a new partition directory must not vanish in a power loss with its fsynced segments).
  static func mkdirs(_ path: String) throws(LogError) {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      let parent = current.isEmpty ? "/" : current
      current += "/" + part
      if mkdir(current, 0o755) == 0 {
        try fsyncDirectory(parent)
      } else if errno != EEXIST {
        throw LogError(.io, "create directory \(current)", errno: errno)
      }
    }
  }

  static func unlink(_ path: String) throws(LogError) {
    if Glibc.unlink(path) != 0 && errno != ENOENT { throw LogError(.io, "delete \(path)", errno: errno) }
  }

  /// The names in a directory, without `.` and `..`.
  static func listDirectory(_ path: String) throws(LogError) -> [String] {
    guard let dir = opendir(path) else { throw LogError(.io, "list \(path)", errno: errno) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafePointer(to: entry.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// Bytes available to an unprivileged user on the file system holding `path`.
  static func freeBytes(_ path: String) throws(LogError) -> Int64 {
    var st = statvfs()
    if statvfs(path, &st) != 0 { throw LogError(.io, "statvfs \(path)", errno: errno) }
    return Int64(st.f_bavail) * Int64(st.f_frsize)
  }
}

/// Test seam modelling power loss: when `WEIR_TEST_SYNC_JOURNAL` names a file (read once, at the
/// first fsync), every successful ``Posix/fdatasync(_:path:)`` appends `<size>\t<path>\n` to it,
/// one `write(2)` a line, `<size>` being the file's size just before the call. A test that stops
/// the process with SIGKILL and truncates every log file to its last journaled size (to zero when
/// it was never synced) leaves what a power loss would: only what was fsynced. Directory syncs are
/// not noted. -1 (off) outside tests, so the seam costs one check per fsync.
private let syncJournal: Int32 = {
  guard let path = getenv("WEIR_TEST_SYNC_JOURNAL"), path.pointee != 0 else { return -1 }
  return Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
}()
