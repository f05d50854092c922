#ifndef WEIR_CRC32C_H
#define WEIR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Updates a CRC-32C (Castagnoli) over `length` bytes. `crc` is the running value (start with 0);
/// the result is the finished CRC of everything fed so far, as Kafka's Crc32C computes it.
/// Uses the SSE4.2 `crc32` instruction when the CPU has it, else the table.
uint32_t weir_crc32c(uint32_t crc, const void *bytes, size_t length);

/// The same, always with the slicing-by-8 table (the fallback, tested on its own).
uint32_t weir_crc32c_table(uint32_t crc, const void *bytes, size_t length);

/// The same, always with the SSE4.2 instruction; call only when `weir_crc32c_hardware_available()`.
uint32_t weir_crc32c_hardware(uint32_t crc, const void *bytes, size_t length);

/// 1 when this CPU has SSE4.2 (and so the `crc32` instruction), else 0.
int weir_crc32c_hardware_available(void);

#endif
