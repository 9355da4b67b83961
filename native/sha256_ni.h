/*
 * SHA-256 of two messages at once with the x86 SHA extensions.
 *
 * Why: one SHA-256 block is a chain of 32 dependent sha256rnds2
 * instructions, so a single message runs at the instruction's latency, not
 * its throughput. Interleaving two independent messages fills the gaps:
 * measured here (AMD EPYC, Zen 4) on 340-byte messages, 128-137 ns a message
 * against 227-231 ns for OpenSSL's SHA256_Init/Update/Final, which hashes
 * one message at a time.
 *
 * Only where the CPU has the extensions (sha256_ni_available); elsewhere the
 * caller uses OpenSSL (sha256_openssl.h).
 */
#ifndef BLUX_SHA256_NI_H
#define BLUX_SHA256_NI_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BLOCK_BYTES 64
/* Longest message sha256_ni_pair takes (longer ones go to OpenSSL): 64 blocks with the padding. */
#define SHA256_NI_MAX_MESSAGE_BYTES (64 * SHA256_BLOCK_BYTES - 9)

/* A message to hash, as up to two pieces (a ledger line around its entry_hash member). */
typedef struct {
  const uint8_t *first;
  size_t first_length;
  const uint8_t *second;
  size_t second_length;
} Sha256Message;

/* FIPS 180-4: the initial hash value H(0) = a..h. */
extern const uint32_t SHA256_H0[8];

/*
 * The padding (FIPS 180-4, 5.1.1) after the last `tail_length` (< 64) bytes
 * of a message of `message_length` bytes, written from tail[tail_length]
 * (room for 128 bytes from `tail`); returns the blocks from `tail` to hash: 1 or 2.
 */
size_t sha256_pad(uint8_t *tail, size_t tail_length, uint64_t message_length);

/* The digest (the words a..h big-endian). */
void sha256_digest_of_words(const uint32_t h[8], uint8_t digest[32]);

/* 1 when this CPU (and this build) can run sha256_ni_pair. */
int sha256_ni_available(void);

/*
 * The SHA-256 digests of `a` and `b` into digest_a and digest_b. Each
 * message is at most SHA256_NI_MAX_MESSAGE_BYTES long. Call only when
 * sha256_ni_available().
 */
void sha256_ni_pair(const Sha256Message *a, const Sha256Message *b, uint8_t digest_a[32], uint8_t digest_b[32]);

/*
 * Whole 64-byte blocks into two running hashes (words a..h): `blocks_a` of
 * `a` into h_a and `blocks_b` of `b` into h_b, two at a time while both
 * have blocks left. blocks_b may be 0 (h_b and b are then not used). Call
 * only when sha256_ni_available().
 */
void sha256_ni_blocks(uint32_t h_a[8], const uint8_t *a, size_t blocks_a, uint32_t h_b[8], const uint8_t *b, size_t blocks_b);

#endif
