import PartitionedLog
import Synchronization

/// Creates a source's router and routes one source at a time. `LogStore.createTopic` checks for the
/// topic and creates it in two steps, so serial sources starting together (each router makes sure
/// `deadletter` exists) would otherwise race to open the same partition files twice.
enum SerialTopicSetup {
  private static let lock = Mutex(())

  static func router(store: LogStore, source: String, topics: [String]) throws(LogError) -> (LogRouter, [TopicRoute]) {
    try lock.withLock { _ throws(LogError) in
      let router = try LogRouter(store: store, source: source)
      var routes: [TopicRoute] = []
      for topic in topics { routes.append(try router.route(topic)) }
      return (router, routes)
    }
  }
}
