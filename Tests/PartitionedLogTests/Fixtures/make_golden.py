#!/usr/bin/env python3
"""Writes kafka-python-batch.bin: a RecordBatch v2 built by kafka-python (an independent
implementation of Kafka's format). RecordBatchTests builds the same records with Weir's builder
and expects the same bytes. Run: pip install kafka-python && python3 make_golden.py"""
from kafka.record.default_records import DefaultRecordBatchBuilder

RECORDS = [
    (1700000000000, b"motor-0001", b'{"vibration":4.2}',
     [("mqtt.topic", b"sensors/motor-0001/telemetry"), ("content-type", b"application/json")]),
    (1700000000500, None, b"raw bytes \x00\x01\xff", []),
    (1699999999000, b"", None, [("null", None)]),
    (1700000100000, b"k" * 200, bytes(range(256)) * 2, [("h", b"v")]),
]

builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0,
                                    producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                    batch_size=1 << 20)
for i, (ts, key, value, headers) in enumerate(RECORDS):
    builder.append(i, timestamp=ts, key=key, value=value, headers=headers)
with open("kafka-python-batch.bin", "wb") as f:
    f.write(builder.build())
