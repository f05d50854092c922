import Dispatch
import FirmwareSim

#if canImport(Glibc)
  import Glibc
#endif

/// Turns SIGINT and SIGTERM into a stop request, so runs end cleanly (QoS 1 drained, DISCONNECT
/// sent, symlink removed). A second signal while stopping exits at once.
final class SignalHandling {
  private let sources: [any DispatchSourceSignal]

  init(stop: StopFlag) {
    var sources: [any DispatchSourceSignal] = []
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        if stop.isStopped {
          _exit(128 + number)
        }
        stop.stop()
      }
      source.resume()
      sources.append(source)
    }
    self.sources = sources
  }

  deinit {
    for source in sources { source.cancel() }
  }
}
