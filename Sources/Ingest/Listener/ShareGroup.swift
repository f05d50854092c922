import MQTTWire
import PartitionedLog

/// A shared subscription's group (`$share/{group}/{filter}`, MQTT 5.0 section 4.8.2; 3.1.1
/// clients may use it too, as with mosquitto): each message its filter matches goes to one of
/// the group's members, not to each.
///
/// The group reads the log through a feed of its own, a named cursor (`mqtt-share:<listener>:<the
/// shared filter>`) saved with the sessions, so a group whose members are all away keeps its
/// backlog in the log, bounded by retention, like a persistent session. The feed lives in a
/// session of its own that is never connected itself (``feedSession``: its client identifier is
/// the shared filter): a delivery pass lends it the next member's connection and subscription,
/// so members take turns a pass at a time (a pass ends at the member's receive window, 256 KiB,
/// or the log's end). A member that leaves with deliveries unacknowledged makes the group send
/// them again from the log, to whichever member is next (with DUP: at least once, as QoS 1
/// promises; deliveries other members had in flight then may come twice too).
///
/// Memory: the members (at most `max_sessions`), the feed (one consumer member per partition
/// served), and per member connection at most its delivery window in flight.
final class ShareGroup {
  /// The shared filter as subscribed (`$share/{group}/{filter}`).
  let filter: String
  let feedSession: ListenerSession
  /// Members in the order they joined, each with its subscription (its QoS and identifier).
  var members: [(session: ListenerSession, subscription: ListenerSubscription)] = []
  /// The member whose turn is next.
  var next = 0

  init(filter: String, feedSession: ListenerSession) {
    self.filter = filter
    self.feedSession = feedSession
  }

  /// The feed has read everything durable.
  var caughtUp: Bool {
    guard let feed = feedSession.feed else { return true }
    return feed.consumer.members.allSatisfy { $0.position >= $0.partition.highWatermark }
  }
}

extension ListenerCore {
  /// The name of a group's cursor in `weir.db`.
  func groupCursorName(_ filter: String) -> String { "mqtt-share:\(config.name):\(filter)" }

  /// `session` joins the group of its shared subscription `subscription` (made if it is the
  /// first member; its saved cursor is picked up if it had one); a member already in it gets its
  /// subscription replaced.
  func join(_ session: ListenerSession, _ subscription: ListenerSubscription) {
    let key = subscription.filter.text
    let group: ShareGroup
    if let existing = shareGroups[key] {
      group = existing
    } else {
      let feedSession = ListenerSession(clientID: key, version: .v5, expirySeconds: 0)
      group = ShareGroup(filter: key, feedSession: feedSession)
      feedSession.group = group
      let feed = makeFeed(feedSession, restoring: true, cursorName: groupCursorName(key))
      // Saved at the next save even if nothing is delivered: a group whose members are all away
      // keeps its place from now on.
      feed.moved = true
      feedSession.feed = feed
      shareGroups[key] = group
    }
    if let i = group.members.firstIndex(where: { $0.session === session }) {
      group.members[i].subscription = subscription
    } else {
      group.members.append((session, subscription))
    }
  }

  /// `session` leaves the group of `filter`; the last member to leave ends it (its cursor goes
  /// at the next save).
  func leave(_ session: ListenerSession, filter: String) {
    guard let group = shareGroups[filter] else { return }
    group.members.removeAll { $0.session === session }
    guard group.members.isEmpty else { return }
    shareGroups[filter] = nil
    group.feedSession.feed = nil
    droppedCursors.append(groupCursorName(filter))
  }

  /// Schedules a pass of every group `session` is a member of (it can take more now).
  func scheduleGroupDeliveries(_ session: ListenerSession) {
    guard !shareGroups.isEmpty else { return }
    for sub in session.subscriptions where sub.filter.shareGroup != nil {
      if let group = shareGroups[sub.filter.text] { scheduleDelivery(group.feedSession) }
    }
  }

  /// Passes of `group`'s feed for its connected members in turn, from the one after the last
  /// served, until the feed has read everything durable or each member had a pass.
  func deliver(_ group: ShareGroup) {
    let count = group.members.count
    guard count > 0, group.feedSession.feed != nil else { return }
    for step in 0..<count {
      if group.caughtUp { break }
      let i = (group.next + step) % count
      let member = group.members[i]
      guard let connection = member.session.connection, connection.canDeliver else { continue }
      group.feedSession.connection = connection
      // The member's own options and identifier (no array made per pass).
      if group.feedSession.subscriptions.isEmpty {
        group.feedSession.subscriptions.append(member.subscription)
      } else {
        group.feedSession.subscriptions[0] = member.subscription
      }
      deliver(group.feedSession)
      group.next = (i + 1) % count
    }
    group.feedSession.connection = nil
  }
}
