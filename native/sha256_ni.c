/*
 * SHA-256 (FIPS 180-4) with the x86 SHA extensions, two messages
 * interleaved (see sha256_ni.h for why).
 *
 * The extensions keep the eight working variables as two vectors, ABEF and
 * CDGH; sha256rnds2 does two rounds, sha256msg1 and sha256msg2 the two
 * halves of the message schedule, four words at a time:
 *   W[t..t+3] = msg2(msg1(W[t-16..t-13], W[t-12..t-9]) + W[t-7..t-4], W[t-4..t-1]).
 * The functions carry target attributes, so the rest of the addon is built
 * for the baseline CPU and this code runs only after the CPUID check.
 */
#include "sha256_ni.h"

#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define HAVE_SHA_NI_BUILD 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* FIPS 180-4, 5.3.3: the initial hash value H(0) = a..h. */
const uint32_t SHA256_H0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

size_t sha256_pad(uint8_t *tail, size_t tail_length, uint64_t message_length) {
  /* FIPS 180-4, 5.1.1: 0x80, zeros up to 56 bytes mod 64, the length in bits big-endian. */
  const size_t blocks = tail_length + 9 > SHA256_BLOCK_BYTES ? 2 : 1;
  const size_t end = blocks * SHA256_BLOCK_BYTES;
  memset(tail + tail_length, 0, end - tail_length);
  tail[tail_length] = 0x80;
  const uint64_t bits = message_length * 8;
  for (int i = 0; i < 8; i++) tail[end - 1 - i] = (uint8_t)(bits >> (8 * i));
  return blocks;
}

void sha256_digest_of_words(const uint32_t h[8], uint8_t digest[32]) {
  for (int i = 0; i < 8; i++) {
    digest[4 * i] = (uint8_t)(h[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(h[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(h[i] >> 8);
    digest[4 * i + 3] = (uint8_t)h[i];
  }
}

#ifdef HAVE_SHA_NI_BUILD

/* FIPS 180-4, 4.2.2: the round constants. */
static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define LANES 2
#define TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* Big-endian words: a byte shuffle that reverses each 4-byte group. */
#define BSWAP32_MASK() _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL)

typedef struct {
  __m128i abef;
  __m128i cdgh;
} Sha256Lane;

/* The hash words a..h as ABEF / CDGH. */
TARGET static Sha256Lane lane_of_words(const uint32_t h[8]) {
  const __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xb1); /* a b c d -> b a d c */
  const __m128i efgh = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b); /* e f g h -> h g f e */
  Sha256Lane lane = { _mm_alignr_epi8(dcba, efgh, 8), _mm_blend_epi16(efgh, dcba, 0xf0) };
  return lane;
}

/* ABEF / CDGH back to the hash words a..h. */
TARGET static void words_of_lane(Sha256Lane lane, uint32_t h[8]) {
  const __m128i feba = _mm_shuffle_epi32(lane.abef, 0x1b);
  const __m128i dchg = _mm_shuffle_epi32(lane.cdgh, 0xb1);
  _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(feba, dchg, 0xf0));
  _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* The digest (a..h, big-endian) of a lane's state. */
TARGET static void store_digest(Sha256Lane lane, uint8_t digest[32]) {
  const __m128i feba = _mm_shuffle_epi32(lane.abef, 0x1b);
  const __m128i dchg = _mm_shuffle_epi32(lane.cdgh, 0xb1);
  const __m128i abcd = _mm_blend_epi16(feba, dchg, 0xf0);
  const __m128i efgh = _mm_alignr_epi8(dchg, feba, 8);
  _mm_storeu_si128((__m128i *)digest, _mm_shuffle_epi8(abcd, BSWAP32_MASK()));
  _mm_storeu_si128((__m128i *)(digest + 16), _mm_shuffle_epi8(efgh, BSWAP32_MASK()));
}

/*
 * One 64-byte block into each of `lanes` states (1 or 2). Written once for
 * both lanes, step by step, so the two dependency chains interleave.
 * w[l][i % 4] holds W[4i..4i+3] of lane l while round group i runs.
 */
TARGET static inline void compress(Sha256Lane *state, const uint8_t *const *block, int lanes) {
  const __m128i bswap = BSWAP32_MASK();
  __m128i w[LANES][4], abef[LANES], cdgh[LANES];
  for (int l = 0; l < lanes; l++) {
    abef[l] = state[l].abef;
    cdgh[l] = state[l].cdgh;
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i++) {
    const __m128i k = _mm_loadu_si128((const __m128i *)&K[4 * i]);
    for (int l = 0; l < lanes; l++) {
      if (i < 4) w[l][i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block[l] + 16 * i)), bswap);
      const __m128i words = w[l][i % 4];
      /* Rounds 4i..4i+3: two with the low half of W + K, two with the high half. */
      __m128i wk = _mm_add_epi32(words, k);
      cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk);
      wk = _mm_shuffle_epi32(wk, 0x0e);
      abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], wk);
      /* W[4(i+1)..]: its msg1 part was made two groups ago (below); needs W[4(i-1)..] before that is overwritten. */
      if (i >= 3 && i <= 14) {
        const __m128i sum = _mm_add_epi32(w[l][(i + 1) % 4], _mm_alignr_epi8(words, w[l][(i + 3) % 4], 4));
        w[l][(i + 1) % 4] = _mm_sha256msg2_epu32(sum, words);
      }
      /* The msg1 part of W[4(i+3)..], in the slot of W[4(i-1)..], which nothing needs any more. */
      if (i >= 1 && i <= 12) w[l][(i + 3) % 4] = _mm_sha256msg1_epu32(w[l][(i + 3) % 4], words);
    }
  }
  for (int l = 0; l < lanes; l++) {
    state[l].abef = _mm_add_epi32(state[l].abef, abef[l]);
    state[l].cdgh = _mm_add_epi32(state[l].cdgh, cdgh[l]);
  }
}

/* The message and its padding into `out`; returns the blocks. */
static size_t padded(const Sha256Message *m, uint8_t out[SHA256_NI_MAX_MESSAGE_BYTES + 9]) {
  const size_t length = m->first_length + m->second_length;
  if (m->first_length > 0) memcpy(out, m->first, m->first_length);
  if (m->second_length > 0) memcpy(out + m->first_length, m->second, m->second_length);
  const size_t whole = length / SHA256_BLOCK_BYTES;
  return whole + sha256_pad(out + whole * SHA256_BLOCK_BYTES, length % SHA256_BLOCK_BYTES, length);
}

int sha256_ni_available(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  const int ssse3 = (ecx >> 9) & 1, sse41 = (ecx >> 19) & 1;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  const int sha = (ebx >> 29) & 1;
  return ssse3 && sse41 && sha;
}

/* `blocks_a` blocks of `a` into state[0] and `blocks_b` of `b` into state[1], two at a time while both have blocks left. */
TARGET static void compress_blocks(Sha256Lane state[LANES], const uint8_t *a, size_t blocks_a, const uint8_t *b, size_t blocks_b) {
  const size_t common = blocks_a < blocks_b ? blocks_a : blocks_b;
  for (size_t n = 0; n < common; n++) {
    const uint8_t *both[LANES] = { a + n * SHA256_BLOCK_BYTES, b + n * SHA256_BLOCK_BYTES };
    compress(state, both, LANES);
  }
  for (size_t n = common; n < blocks_a; n++) {
    const uint8_t *one[1] = { a + n * SHA256_BLOCK_BYTES };
    compress(&state[0], one, 1);
  }
  for (size_t n = common; n < blocks_b; n++) {
    const uint8_t *one[1] = { b + n * SHA256_BLOCK_BYTES };
    compress(&state[1], one, 1);
  }
}

TARGET void sha256_ni_blocks(uint32_t h_a[8], const uint8_t *a, size_t blocks_a, uint32_t h_b[8], const uint8_t *b, size_t blocks_b) {
  Sha256Lane state[LANES] = { lane_of_words(h_a), blocks_b > 0 ? lane_of_words(h_b) : lane_of_words(h_a) };
  compress_blocks(state, a, blocks_a, b, blocks_b);
  words_of_lane(state[0], h_a);
  if (blocks_b > 0) words_of_lane(state[1], h_b);
}

TARGET void sha256_ni_pair(const Sha256Message *a, const Sha256Message *b, uint8_t digest_a[32], uint8_t digest_b[32]) {
  uint8_t buffer[LANES][SHA256_NI_MAX_MESSAGE_BYTES + 9];
  const size_t blocks_a = padded(a, buffer[0]), blocks_b = padded(b, buffer[1]);
  /* Straight from H(0) to the digest in the lanes' own layout: no round trip through words (~10 ns a line). */
  const Sha256Lane initial = lane_of_words(SHA256_H0);
  Sha256Lane state[LANES] = { initial, initial };
  compress_blocks(state, buffer[0], blocks_a, buffer[1], blocks_b);
  store_digest(state[0], digest_a);
  store_digest(state[1], digest_b);
}

#else

int sha256_ni_available(void) { return 0; }

void sha256_ni_blocks(uint32_t h_a[8], const uint8_t *a, size_t blocks_a, uint32_t h_b[8], const uint8_t *b, size_t blocks_b) {
  (void)h_a; (void)a; (void)blocks_a; (void)h_b; (void)b; (void)blocks_b;
}

void sha256_ni_pair(const Sha256Message *a, const Sha256Message *b, uint8_t digest_a[32], uint8_t digest_b[32]) {
  (void)a; (void)b; (void)digest_a; (void)digest_b;
}

#endif
