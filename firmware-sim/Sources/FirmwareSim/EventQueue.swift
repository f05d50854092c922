/// A binary min-heap of scheduled events ordered by (time, sequence). The sequence number breaks
/// ties in insertion order, which keeps the fleet's output deterministic.
struct EventQueue<Payload: Sendable>: Sendable {
  private struct Entry: Sendable {
    let time: Int64
    let sequence: UInt64
    let payload: Payload

    func precedes(_ other: Entry) -> Bool {
      time != other.time ? time < other.time : sequence < other.sequence
    }
  }

  private var heap: [Entry] = []
  private var nextSequence: UInt64 = 0

  var isEmpty: Bool { heap.isEmpty }
  var count: Int { heap.count }
  var nextTime: Int64? { heap.first?.time }

  mutating func push(_ payload: Payload, at time: Int64) {
    heap.append(Entry(time: time, sequence: nextSequence, payload: payload))
    nextSequence += 1
    var child = heap.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard heap[child].precedes(heap[parent]) else { break }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> (time: Int64, payload: Payload)? {
    guard !heap.isEmpty else { return nil }
    heap.swapAt(0, heap.count - 1)
    let top = heap.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
      if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
      if smallest == parent { break }
      heap.swapAt(parent, smallest)
      parent = smallest
    }
    return (top.time, top.payload)
  }
}
