/*
 * SHA-256 through the OpenSSL of the node binary that loads the addon (node
 * exports its OpenSSL symbols for addons): the same code and CPU extensions
 * node:crypto runs, through its cheapest per-message API.
 *
 * With an OpenSSL that still has the low-level API (node 20's does),
 * SHA256_Init/Update/Final: EVP costs more per message even with the
 * algorithm fetched once (0.26-0.28 against 0.22 us for 340 bytes, measured
 * here), and OpenSSL 3's one-shot SHA256() looks the algorithm up on every
 * call (0.44 us). Without it, EVP.
 *
 * A message comes in two pieces (a ledger line with its entry_hash member
 * cut out is the bytes before the cut and the bytes after it), so nothing is
 * copied to put them together.
 */
#ifndef BLUX_SHA256_OPENSSL_H
#define BLUX_SHA256_OPENSSL_H

#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: see above */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32

#ifndef OPENSSL_NO_DEPRECATED_3_0
typedef SHA256_CTX Sha256State;
static inline int sha256_begin(Sha256State *state) { (void)state; return 1; }
static inline void sha256_end(Sha256State *state) { (void)state; }
static inline int sha256_of_two(Sha256State *state, const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length,
                                uint8_t digest[SHA256_DIGEST_BYTES]) {
  return SHA256_Init(state) && SHA256_Update(state, a, a_length) && SHA256_Update(state, b, b_length) && SHA256_Final(digest, state);
}
#else
typedef struct { EVP_MD *md; EVP_MD_CTX *context; } Sha256State;
static inline int sha256_begin(Sha256State *state) {
  state->md = EVP_MD_fetch(NULL, "SHA256", NULL);
  state->context = EVP_MD_CTX_new();
  return state->md != NULL && state->context != NULL;
}
static inline void sha256_end(Sha256State *state) {
  EVP_MD_CTX_free(state->context);
  EVP_MD_free(state->md);
}
static inline int sha256_of_two(Sha256State *state, const uint8_t *a, size_t a_length, const uint8_t *b, size_t b_length,
                                uint8_t digest[SHA256_DIGEST_BYTES]) {
  unsigned int written = 0;
  return EVP_DigestInit_ex2(state->context, state->md, NULL) && EVP_DigestUpdate(state->context, a, a_length) &&
         EVP_DigestUpdate(state->context, b, b_length) && EVP_DigestFinal_ex(state->context, digest, &written) &&
         written == SHA256_DIGEST_BYTES;
}
#endif

#endif
