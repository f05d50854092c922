import Logging
import PartitionedLog
import Payload
import WeirCore

extension ForwardingEngine {
  /// Sends until the window, the bandwidth cap or the transport says stop, or nothing is left;
  /// returns how many records and gap markers went out.
  func sendRound(now: Int64) -> Int {
    transportBusy = false
    var total = 0
    while total < 16_384 && !transportBusy && !stopping {
      guard inFlightRecords < options.window.maxRecords, inFlightBytes < options.window.maxBytes else { break }
      if bucket != nil {
        bucket!.refill(nowNs: now)
        if bucket!.tokens <= 0 { break }
      }
      guard let (lane, stream, isBacklog) = pick(now: now) else { break }
      let bytesBefore = submittedBytes
      let sent = sendBurst(lane, stream, isBacklog: isBacklog, now: now, limit: 512)
      total += sent
      if sent == 0 { break }
      let bytes = submittedBytes - bytesBefore
      if isBacklog { backlogShareBytes += bytes } else { liveShareBytes += bytes }
    }
    return total
  }

  /// The stream to send from: the highest priority with anything to send, round robin among
  /// equals; with `liveFirst`, live or backlog by their shares.
  private func pick(now: Int64) -> (Lane, LogStream, Bool)? {
    for (g, group) in priorityGroups.enumerated() {
      var live: (Int, Lane)?
      var backlog: (Int, Lane)?
      for i in 0..<group.count {
        let index = (roundRobin[g] + i) % group.count
        let lane = group[index]
        guard lane.isActive, lane.resumeAtNs <= now, !isHeldBack(lane, now: now) else { continue }
        if live == nil, hasData(lane, lane.main) { live = (index, lane) }
        if backlog == nil, lane.backlog != nil {
          lane.advanceBacklogRange()
          if !lane.backlogRanges.isEmpty, hasData(lane, lane.backlog!) { backlog = (index, lane) }
        }
        if live != nil && (backlog != nil || lane.backlog == nil) { break }
      }
      if live == nil && backlog == nil { continue }
      var useBacklog = backlog != nil
      if live != nil, backlog != nil, case .liveFirst(let share) = options.drainOrder {
        useBacklog = Double(backlogShareBytes) * (1 - share) <= Double(liveShareBytes) * share
      } else {
        liveShareBytes = 0
        backlogShareBytes = 0
        useBacklog = live == nil
      }
      let (index, lane) = useBacklog ? backlog! : live!
      roundRobin[g] = (index + 1) % group.count
      return (lane, useBacklog ? lane.backlog! : lane.main, useBacklog)
    }
    return nil
  }

  /// A lane whose oldest record in flight is old enough that it might still time out sends
  /// nothing more until it is settled: a later record must not be confirmed ahead of one that
  /// then fails (librdkafka's silent gap, docs/parts.md), or the rewind would re-send it out of order.
  @inline(__always)
  private func isHeldBack(_ lane: Lane, now: Int64) -> Bool {
    guard let oldest = lane.ring.first, let guardMs = transport.overtakeGuardMs else { return false }
    return now - oldest.sentAtNs > Int64(guardMs) * 1_000_000
  }

  @inline(__always)
  private func hasData(_ lane: Lane, _ stream: LogStream) -> Bool {
    if case .end = stream.peek() { return false }
    return true
  }

  /// What the stream has next, with records the remote end refuses turned into gaps.
  @inline(__always)
  private func nextItem(_ lane: Lane, _ stream: LogStream) -> StreamItem {
    let item = stream.peek()
    if !lane.rejected.isEmpty, case .record(let record, _) = item, lane.rejected.contains(record.offset) {
      return .gap(from: record.offset, to: record.offset + 1, reason: .rejected)
    }
    return item
  }

  private func sendBurst(_ lane: Lane, _ stream: LogStream, isBacklog: Bool, now: Int64, limit: Int) -> Int {
    var sent = 0
    while sent < limit && lane.isActive && !transportBusy {
      switch nextItem(lane, stream) {
      case .end:
        return sent
      case .record(let record, let epoch):
        let replayed = isBacklog || record.offset < lane.backlogEnd
        guard sendRecord(lane, stream, record, epoch: epoch, replayed: replayed, now: now) else { return sent }
      case .gap(let from, let to, let reason):
        guard sendGapMarker(lane, stream, from: from, to: to, reason: reason, now: now) else { return sent }
      }
      sent += 1
    }
    return sent
  }

  /// Whether `bytes` more fit the window (one record always fits an empty window).
  @inline(__always)
  private func windowAdmits(_ bytes: Int) -> Bool {
    inFlightRecords == 0
      || (inFlightRecords < options.window.maxRecords && inFlightBytes + bytes <= options.window.maxBytes)
  }

  @inline(__always)
  private func sendRecord(
    _ lane: Lane, _ stream: LogStream, _ record: RecordView, epoch: Int32, replayed: Bool, now: Int64
  ) -> Bool {
    let headers = headerBuffer
    headers.reset(reserving: record.headerCount + 7)
    var bytes = (record.key?.count ?? 0) + (record.value?.count ?? 0)
    if record.headerCount > 0 {
      var it = record.headers
      while let h = it.next() {
        headers.append(h.key, h.value)
        bytes += h.key.count + (h.value?.count ?? 0)
      }
    }
    // Weir's headers last, so a consumer's `lastHeader` finds them even if a record had its own.
    let epochBytes = lane.epochHeader(epoch)
    let offsetBytes = offsetText.formatDecimal(record.offset)
    headers.append(WeirHeader.gateway.bytes, gatewayBytes.bytes)
    headers.append(WeirHeader.epoch.bytes, epochBytes)
    headers.append(WeirHeader.topic.bytes, lane.topicBytes.bytes)
    headers.append(WeirHeader.partition.bytes, lane.partitionBytes.bytes)
    headers.append(WeirHeader.offset.bytes, offsetBytes)
    bytes +=
      12 + gatewayBytes.count + 10 + epochBytes.count + 10 + lane.topicBytes.count + 14 + lane.partitionBytes.count
      + 11 + offsetBytes.count
    if replayed {
      headers.append(WeirHeader.replayed.bytes, WeirHeader.trueValue.bytes)
      bytes += 17
    }
    return submit(
      lane, stream, key: record.key, value: record.value, timestamp: record.timestamp, bytes: bytes,
      offset: record.offset, next: record.offset + 1, now: now)
  }

  /// Sends the record that stands for offsets `from..<to` that cannot be forwarded, so the loss
  /// is visible centrally, and counts them.
  private func sendGapMarker(
    _ lane: Lane, _ stream: LogStream, from: Int64, to: Int64, reason: GapReason, now: Int64
  ) -> Bool {
    let json = JSONWriter.object()
    json.key("weir.gap")
    json.beginObject()
    json.add("gateway", options.gateway)
    json.add("topic", lane.topic)
    json.add("partition", Int(lane.partitionID))
    json.add("from", from)
    json.add("to", to - 1)
    json.add("records", to - from)
    json.add("reason", reason.rawValue)
    let value = OwnedBytes(json.result)
    let epoch = OwnedBytes(String(store.epoch))
    let range = OwnedBytes("\(from)-\(to - 1)")
    let why = OwnedBytes(reason.rawValue)
    let first = OwnedBytes(String(from))
    let headers = headerBuffer
    headers.reset(reserving: 8)
    headers.append(WeirHeader.gateway.bytes, gatewayBytes.bytes)
    headers.append(WeirHeader.epoch.bytes, epoch.bytes)
    headers.append(WeirHeader.topic.bytes, lane.topicBytes.bytes)
    headers.append(WeirHeader.partition.bytes, lane.partitionBytes.bytes)
    headers.append(WeirHeader.offset.bytes, first.bytes)
    headers.append(WeirHeader.gap.bytes, range.bytes)
    headers.append(WeirHeader.gapReason.bytes, why.bytes)
    let bytes = value.count + 128
    let accepted = submit(
      lane, stream, key: nil, value: value.bytes, timestamp: clock.nowMilliseconds(), bytes: bytes, offset: from,
      next: to, now: now)
    if accepted {
      stream.skip(to: to)
      lane.lost += to - from
      if reason != .rejected {
        ConsumerSkips.count(
          consumer: options.name, topic: lane.topic, records: to - from,
          reason: reason == .retention ? .retention : .corrupt)
      }
      logger.warning(
        "records cannot be forwarded; sent a gap marker",
        metadata: [
          "uplink": "\(options.name)", "topic": "\(lane.topic)", "partition": "\(lane.partitionID)",
          "from": "\(from)", "to": "\(to - 1)", "reason": "\(reason.rawValue)",
        ])
    }
    return accepted
  }

  /// Puts one send in flight: window, bandwidth cap, the lane's ring, the transport.
  @inline(__always)
  private func submit(
    _ lane: Lane, _ stream: LogStream, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestamp: Int64,
    bytes: Int, offset: Int64, next: Int64, now: Int64
  ) -> Bool {
    guard windowAdmits(bytes) else { return false }
    if bucket != nil, !bucket!.take(bytes) { return false }
    let sequence = lane.ring.push(
      InFlightEntry(
        offset: offset, next: next, timestamp: timestamp, sentAtNs: now, bytes: Int32(clamping: bytes), state: .pending)
    )
    let token = UInt64(lane.slot) << 48 | UInt64(lane.generation) << 40 | sequence
    switch transport.send(
      topic: lane.remoteIndex, key: key, value: value, timestamp: timestamp, headers: headerBuffer.buffer, token: token)
    {
    case .accepted:
      if next == offset + 1 { stream.advance() }
      if inFlightRecords == 0 { inFlightSinceNs = now }
      inFlightRecords += 1
      inFlightBytes += bytes
      lane.inFlightRecords += 1
      lane.sent += 1
      submittedBytes += Int64(bytes)
      if inFlightRecords > peakInFlightRecords { peakInFlightRecords = inFlightRecords }
      if inFlightBytes > peakInFlightBytes { peakInFlightBytes = inFlightBytes }
      return true
    case .busy:
      lane.ring.removeLast()
      bucket?.refund(bytes)
      transportBusy = true
      return false
    case .failed(let reason):
      lane.ring.removeLast()
      bucket?.refund(bytes)
      lane.errors += 1
      noteError(reason, lane: lane)
      failLane(lane, now: now, purge: false)
      return false
    case .rejected(let reason):
      lane.ring.removeLast()
      bucket?.refund(bytes)
      lane.errors += 1
      noteError(reason, lane: lane)
      if next == offset + 1 { lane.rejected.insert(offset) }
      return false
    }
  }
}
