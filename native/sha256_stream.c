/*
 * Streaming SHA-256 over sha256_ni_blocks (see sha256_stream.h): the bytes
 * that do not fill a block wait in the stream; whole blocks of the two
 * streams are compressed two at a time.
 */
#include "sha256_stream.h"

#include <string.h>

#include "sha256_ni.h"

void sha256_stream_init(Sha256Stream *stream) {
  memset(stream, 0, sizeof(*stream));
  memcpy(stream->h, SHA256_H0, sizeof(stream->h));
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
  uint8_t tail[2 * SHA256_BLOCK_BYTES];
  memcpy(tail, stream->block, stream->pending);
  const size_t blocks = sha256_pad(tail, stream->pending, stream->length);
  sha256_ni_blocks(stream->h, tail, blocks, NULL, NULL, 0);
  sha256_digest_of_words(stream->h, digest);
  stream->finished = 1;
}
