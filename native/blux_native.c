/*
 * blux-reg's native kernel: SHA-256 of many short messages in one call.
 *
 * Why it exists: the ledger audit hashes one ~340-byte message per entry.
 * node:crypto's one-shot hash() costs ~0.5 us per message here, of which the
 * SHA-256 itself (the CPU's SHA extensions) is ~0.2 us; the rest is crossing
 * from JavaScript into C++ and setting up an EVP context, once per message.
 * Here a whole chunk of messages crosses once.
 *
 * The SHA-256 is OpenSSL's, from the node binary that loads this addon (node
 * exports its OpenSSL symbols for addons): the same code and CPU extensions
 * node:crypto runs, through its cheapest per-message API (see sha256_of).
 *
 * A bad call throws a TypeError or RangeError and writes nothing (see
 * sha256_check).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: see sha256_of */
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define DIGEST_BYTES 32

/* Throws (as a pending JavaScript exception) and makes the caller return NULL. */
#define THROW_TYPE(env, message) do { napi_throw_type_error((env), NULL, (message)); return NULL; } while (0)
#define THROW_RANGE(env, message) do { napi_throw_range_error((env), NULL, (message)); return NULL; } while (0)
#define CHECK_NAPI(env, call) do { if ((call) != napi_ok) THROW_TYPE((env), "blux-reg native: N-API call failed"); } while (0)

/* A typed array's elements (already offset by its byteOffset) and length. */
typedef struct {
  void *data;
  size_t length;
} TypedView;

/*
 * The view of `value` when it is a typed array of type `want` over a plain
 * ArrayBuffer. Views of a SharedArrayBuffer are refused: another thread
 * could change offsets between their check and their use.
 */
static int typed_view_of(napi_env env, napi_value value, napi_typedarray_type want, TypedView *view) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, value, &type, &view->length, &view->data, &buffer, &byte_offset) != napi_ok) return 0;
  bool is_array_buffer = false;
  if (napi_is_arraybuffer(env, buffer, &is_array_buffer) != napi_ok || !is_array_buffer) return 0;
  return type == want;
}

/* True when the byte ranges [a, a + a_bytes) and [b, b + b_bytes) share a byte. */
static int overlaps(const void *a, size_t a_bytes, const void *b, size_t b_bytes) {
  if (a_bytes == 0 || b_bytes == 0) return 0;
  uintptr_t a_start = (uintptr_t)a, b_start = (uintptr_t)b;
  return a_start < b_start + b_bytes && b_start < a_start + a_bytes;
}

/*
 * SHA-256 of one message into `digest`. With an OpenSSL that still has the
 * low-level API (node 20's does), SHA256_Init/Update/Final: EVP costs more
 * per message even with the algorithm fetched once (0.26-0.28 against
 * 0.22 us for 340 bytes, measured here), and OpenSSL 3's one-shot SHA256()
 * looks the algorithm up on every call (0.44 us). Without it, EVP.
 */
#ifndef OPENSSL_NO_DEPRECATED_3_0
typedef SHA256_CTX Sha256State;
static int sha256_begin(Sha256State *state) { (void)state; return 1; }
static void sha256_end(Sha256State *state) { (void)state; }
static int sha256_of(Sha256State *state, const uint8_t *message, size_t length, uint8_t digest[DIGEST_BYTES]) {
  return SHA256_Init(state) && SHA256_Update(state, message, length) && SHA256_Final(digest, state);
}
#else
typedef struct { EVP_MD *md; EVP_MD_CTX *context; } Sha256State;
static int sha256_begin(Sha256State *state) {
  state->md = EVP_MD_fetch(NULL, "SHA256", NULL);
  state->context = EVP_MD_CTX_new();
  return state->md != NULL && state->context != NULL;
}
static void sha256_end(Sha256State *state) {
  EVP_MD_CTX_free(state->context);
  EVP_MD_free(state->md);
}
static int sha256_of(Sha256State *state, const uint8_t *message, size_t length, uint8_t digest[DIGEST_BYTES]) {
  unsigned int written = 0;
  return EVP_DigestInit_ex2(state->context, state->md, NULL) && EVP_DigestUpdate(state->context, message, length) &&
         EVP_DigestFinal_ex(state->context, digest, &written) && written == DIGEST_BYTES;
}
#endif

/*
 * sha256Check(data: Uint8Array, offsets: Int32Array, count: number,
 *             claimed: Uint8Array, matches: Uint8Array): void
 *
 * Message i is data[offsets[i] .. offsets[i + 1]). Sets matches[i] to 1 when
 * its SHA-256 equals claimed[32 i .. 32 i + 32), else to 0, for i < count.
 * Offsets are an Int32Array because that is what the ledger scanner's
 * columns are (src/audit/wasm-scanner.ts); negative ones are refused.
 *
 * Every argument is checked before anything is written, and `matches` may
 * not overlap the other arrays (writing it would change what was checked).
 * The hashing loop still reads each offset once and re-checks it where it is
 * used, so no checked-then-changed value can send a read out of bounds.
 */
static napi_value sha256_check(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 5) THROW_TYPE(env, "sha256Check(data, offsets, count, claimed, matches) takes 5 arguments");

  TypedView data, offsets, claimed, matches;
  if (!typed_view_of(env, argv[0], napi_uint8_array, &data)) THROW_TYPE(env, "sha256Check: data must be a Uint8Array over an ArrayBuffer");
  if (!typed_view_of(env, argv[1], napi_int32_array, &offsets)) THROW_TYPE(env, "sha256Check: offsets must be an Int32Array over an ArrayBuffer");
  if (!typed_view_of(env, argv[3], napi_uint8_array, &claimed)) THROW_TYPE(env, "sha256Check: claimed must be a Uint8Array over an ArrayBuffer");
  if (!typed_view_of(env, argv[4], napi_uint8_array, &matches)) THROW_TYPE(env, "sha256Check: matches must be a Uint8Array over an ArrayBuffer");

  double count_number;
  napi_valuetype count_type;
  CHECK_NAPI(env, napi_typeof(env, argv[2], &count_type));
  if (count_type != napi_number) THROW_TYPE(env, "sha256Check: count must be a number");
  CHECK_NAPI(env, napi_get_value_double(env, argv[2], &count_number));
  /* Range first: converting an out-of-range (or NaN) double to an integer is undefined in C. */
  if (!(count_number >= 0 && count_number <= 4294967295.0) || count_number != (double)(uint64_t)count_number) {
    THROW_RANGE(env, "sha256Check: count must be an integer from 0 to 2^32 - 1");
  }
  const size_t count = (size_t)count_number;
  if (count == 0) return NULL;

  /* offsets.length - 1 < count, written so that it cannot wrap where size_t is 32 bits. */
  if (offsets.length == 0 || offsets.length - 1 < count) THROW_RANGE(env, "sha256Check: offsets needs count + 1 entries");
  if (claimed.length / DIGEST_BYTES < count) THROW_RANGE(env, "sha256Check: claimed needs 32 bytes per message");
  if (matches.length < count) THROW_RANGE(env, "sha256Check: matches needs one byte per message");
  const int32_t *offset = offsets.data;
  uint8_t *match = matches.data;
  if (overlaps(match, count, offset, (count + 1) * sizeof(int32_t)) || overlaps(match, count, data.data, data.length) ||
      overlaps(match, count, claimed.data, count * DIGEST_BYTES)) {
    THROW_RANGE(env, "sha256Check: matches must not share memory with data, offsets or claimed");
  }
  if (offset[0] < 0) THROW_RANGE(env, "sha256Check: offsets must not be negative");
  for (size_t i = 0; i < count; i++) {
    if (offset[i] > offset[i + 1]) THROW_RANGE(env, "sha256Check: offsets must not decrease");
  }
  if ((size_t)offset[count] > data.length) THROW_RANGE(env, "sha256Check: a message ends past the end of data");

  /* An empty view may have no buffer at all: never do arithmetic on a null pointer. */
  static const uint8_t no_bytes[1] = {0};
  const uint8_t *bytes = data.length > 0 ? data.data : no_bytes;
  const uint8_t *claims = claimed.data;
  Sha256State state;
  if (!sha256_begin(&state)) THROW_TYPE(env, "sha256Check: OpenSSL has no SHA-256");
  uint8_t digest[DIGEST_BYTES];
  size_t start = (size_t)offset[0];
  for (size_t i = 0; i < count; i++) {
    const int32_t end_value = offset[i + 1]; /* read once: checked and used as the same value */
    if (end_value < 0 || (size_t)end_value < start || (size_t)end_value > data.length) {
      sha256_end(&state);
      THROW_RANGE(env, "sha256Check: offsets changed during the call");
    }
    const size_t end = (size_t)end_value;
    if (!sha256_of(&state, bytes + start, end - start, digest)) {
      sha256_end(&state);
      THROW_TYPE(env, "sha256Check: OpenSSL failed to hash");
    }
    match[i] = memcmp(digest, claims + i * DIGEST_BYTES, DIGEST_BYTES) == 0 ? 1 : 0;
    start = end;
  }
  sha256_end(&state);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value function;
  if (napi_create_function(env, "sha256Check", NAPI_AUTO_LENGTH, sha256_check, NULL, &function) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sha256Check", function) != napi_ok) return NULL;
  return exports;
}
