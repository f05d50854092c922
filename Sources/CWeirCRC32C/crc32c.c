// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by Kafka's RecordBatch v2.
// Swift cannot turn on a CPU feature for one function, so the SSE4.2 path lives here in C and
// is chosen at run time; the table path (slicing by 8) serves other CPUs.
#include "weir_crc32c.h"

#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static int table_ready;

static void build_table(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = table[0][n];
    for (int k = 1; k < 8; k++) {
      c = table[0][c & 0xff] ^ (c >> 8);
      table[k][n] = c;
    }
  }
  __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t weir_crc32c_table(uint32_t crc, const void *bytes, size_t length) {
  if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();
  const unsigned char *p = bytes;
  uint32_t c = ~crc;
  while (length && ((uintptr_t)p & 7)) {
    c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    length--;
  }
  while (length >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    word ^= c;
    c = table[7][word & 0xff] ^ table[6][(word >> 8) & 0xff] ^ table[5][(word >> 16) & 0xff] ^
        table[4][(word >> 24) & 0xff] ^ table[3][(word >> 32) & 0xff] ^
        table[2][(word >> 40) & 0xff] ^ table[1][(word >> 48) & 0xff] ^ table[0][word >> 56];
    p += 8;
    length -= 8;
  }
  while (length--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t weir_crc32c_hardware(uint32_t crc, const void *bytes,
                                                                size_t length) {
  const unsigned char *p = bytes;
  uint64_t c = ~crc;
  while (length && ((uintptr_t)p & 7)) {
    c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    length--;
  }
  // Unrolled by four: one crc32q per cycle is the instruction's throughput (~8 GB/s here).
  while (length >= 32) {
    uint64_t a, b, d, e;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    memcpy(&d, p + 16, 8);
    memcpy(&e, p + 24, 8);
    c = __builtin_ia32_crc32di(c, a);
    c = __builtin_ia32_crc32di(c, b);
    c = __builtin_ia32_crc32di(c, d);
    c = __builtin_ia32_crc32di(c, e);
    p += 32;
    length -= 32;
  }
  while (length >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    length -= 8;
  }
  while (length--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
  return ~(uint32_t)c;
}

int weir_crc32c_hardware_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}
#else
uint32_t weir_crc32c_hardware(uint32_t crc, const void *bytes, size_t length) {
  return weir_crc32c_table(crc, bytes, length);
}
int weir_crc32c_hardware_available(void) { return 0; }
#endif

static int hw_state = -1;

uint32_t weir_crc32c(uint32_t crc, const void *bytes, size_t length) {
  int hw = __atomic_load_n(&hw_state, __ATOMIC_RELAXED);
  if (hw < 0) {
    hw = weir_crc32c_hardware_available();
    __atomic_store_n(&hw_state, hw, __ATOMIC_RELAXED);
  }
  return hw ? weir_crc32c_hardware(crc, bytes, length) : weir_crc32c_table(crc, bytes, length);
}
