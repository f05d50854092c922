#if canImport(Glibc)
  import Glibc
#endif

/// A mutex with a condition variable, for the few places where a thread must block until another
/// thread changes shared state (group commit followers, the background flusher). Swift's `Mutex`
/// has no condition variable.
/// `@unchecked Sendable`: it is the lock: the pthread mutex guards whatever its users guard with it, and the condition variable is used only with it held.
final class ConditionLock: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  init() {
    pthread_mutex_init(mutex, nil)
    var attributes = pthread_condattr_t()
    pthread_condattr_init(&attributes)
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
    pthread_cond_init(condition, &attributes)
    pthread_condattr_destroy(&attributes)
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    condition.deallocate()
    mutex.deallocate()
  }

  @inline(__always) func lock() { pthread_mutex_lock(mutex) }
  @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }

  @inline(__always)
  func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body()
  }

  /// Waits for a broadcast; the lock must be held.
  func wait() { pthread_cond_wait(condition, mutex) }

  /// Waits for a broadcast or until `nanoseconds` passed; the lock must be held.
  func wait(nanoseconds: Int64) {
    var deadline = timespec()
    clock_gettime(CLOCK_MONOTONIC, &deadline)
    let total = Int64(deadline.tv_nsec) + nanoseconds
    deadline.tv_sec += Int(total / 1_000_000_000)
    deadline.tv_nsec = Int(total % 1_000_000_000)
    pthread_cond_timedwait(condition, mutex, &deadline)
  }

  func broadcast() { pthread_cond_broadcast(condition) }
}
