/*
 * Streaming SHA-256 of whole files, two files at a time on one core (the x86
 * SHA extensions, sha256_ni.c): verify-batch hashes big artifacts, and one
 * stream runs at the latency of the dependent round instructions while two
 * interleaved run nearly twice as fast.
 *
 * The state lives in caller memory (a JavaScript Uint8Array of
 * SHA256_STREAM_BYTES), copied in and out of a local struct on each call,
 * so its alignment does not matter and a corrupt one cannot send a write
 * out of bounds (`pending` is checked).
 */
#ifndef BLUX_SHA256_STREAM_H
#define BLUX_SHA256_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t h[8];
  /* Bytes hashed so far (the padding needs the total). */
  uint64_t length;
  /* Bytes of `block` waiting for the rest of their block. */
  uint32_t pending;
  /* 1 once the digest was taken: the stream takes nothing more. */
  uint32_t finished;
  uint8_t block[64];
} Sha256Stream;

#define SHA256_STREAM_BYTES sizeof(Sha256Stream)

void sha256_stream_init(Sha256Stream *stream);

/* Absorbs `a` into stream_a and `b` into stream_b (stream_b may be NULL, with b_length 0), interleaving their blocks. */
void sha256_stream_update2(Sha256Stream *stream_a, const uint8_t *a, size_t a_length, Sha256Stream *stream_b, const uint8_t *b, size_t b_length);

/* The digest of everything absorbed (the stream is then spent). */
void sha256_stream_final(Sha256Stream *stream, uint8_t digest[32]);

#endif
