/*
 * Streaming SHA-256 over sha256_ni_blocks (see sha256_stream.h): the bytes
 * that do not fill a block wait in the stream; whole blocks of the two
 * streams are compressed two at a time.
 */
#include "sha256_stream.h"

#include <string.h>

#include "sha256_ni.h"

/* FIPS 180-4, 5.3.3: H(0). */
static const uint32_t H0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

void sha256_stream_init(Sha256Stream *stream) {
  memset(stream, 0, sizeof(*stream));
  memcpy(stream->h, H0, sizeof(H0));
}

/* Tops up the stream's waiting block from `*data`; compresses it once full. */
static void fill_pending(Sha256Stream *stream, const uint8_t **data, size_t *length) {
  if (stream->pending == 0) return;
  size_t take = SHA256_BLOCK_BYTES - stream->pending;
  if (take > *length) take = *length;
  memcpy(stream->block + stream->pending, *data, take);
  stream->pending += (uint32_t)take;
  stream->length += take;
  *data += take;
  *length -= take;
  if (stream->pending == SHA256_BLOCK_BYTES) {
    sha256_ni_blocks(stream->h, stream->block, 1, NULL, NULL, 0);
    stream->pending = 0;
  }
}

/* Keeps the bytes after the last whole block waiting. */
static void keep_rest(Sha256Stream *stream, const uint8_t *data, size_t length) {
  const size_t whole = length - length % SHA256_BLOCK_BYTES;
  stream->length += whole;
  memcpy(stream->block, data + whole, length - whole);
  stream->pending = (uint32_t)(length - whole);
  stream->length += length - whole;
}

void sha256_stream_update2(Sha256Stream *stream_a, const uint8_t *a, size_t a_length, Sha256Stream *stream_b, const uint8_t *b, size_t b_length) {
  fill_pending(stream_a, &a, &a_length);
  if (stream_b != NULL) fill_pending(stream_b, &b, &b_length);
  /* After fill_pending a stream either has nothing waiting or has used up its data. */
  const size_t blocks_a = stream_a->pending == 0 ? a_length / SHA256_BLOCK_BYTES : 0;
  const size_t blocks_b = stream_b != NULL && stream_b->pending == 0 ? b_length / SHA256_BLOCK_BYTES : 0;
  if (blocks_a > 0 || blocks_b > 0) {
    if (blocks_a > 0) sha256_ni_blocks(stream_a->h, a, blocks_a, blocks_b > 0 ? stream_b->h : NULL, b, blocks_b);
    else sha256_ni_blocks(stream_b->h, b, blocks_b, NULL, NULL, 0);
  }
  if (stream_a->pending == 0) keep_rest(stream_a, a, a_length);
  if (stream_b != NULL && stream_b->pending == 0) keep_rest(stream_b, b, b_length);
}

void sha256_stream_final(Sha256Stream *stream, uint8_t digest[32]) {
  /* FIPS 180-4, 5.1.1: 0x80, zeros to 56 bytes mod 64, the length in bits big-endian. */
  const uint64_t bits = stream->length * 8;
  uint8_t *block = stream->block;
  size_t at = stream->pending;
  block[at++] = 0x80;
  if (at > SHA256_BLOCK_BYTES - 8) {
    memset(block + at, 0, SHA256_BLOCK_BYTES - at);
    sha256_ni_blocks(stream->h, block, 1, NULL, NULL, 0);
    at = 0;
  }
  memset(block + at, 0, SHA256_BLOCK_BYTES - 8 - at);
  for (int i = 0; i < 8; i++) block[SHA256_BLOCK_BYTES - 1 - i] = (uint8_t)(bits >> (8 * i));
  sha256_ni_blocks(stream->h, block, 1, NULL, NULL, 0);
  for (int i = 0; i < 8; i++) {
    digest[4 * i] = (uint8_t)(stream->h[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(stream->h[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(stream->h[i] >> 8);
    digest[4 * i + 3] = (uint8_t)stream->h[i];
  }
  stream->finished = 1;
}
