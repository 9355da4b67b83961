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
 * node:crypto runs. The low-level SHA256_Init/Update/Final API is used on
 * purpose: OpenSSL 3's one-shot SHA256() and EVP_Digest() look the algorithm
 * up on every call, which at this size costs as much as the hash (measured
 * here: 0.44 us a message against 0.24 us).
 *
 * Every argument is checked before any byte is read: a bad call throws a
 * TypeError or RangeError and touches nothing.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and friends: see above */
#include <node_api.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define DIGEST_BYTES 32

/* Throws (as a pending JavaScript exception) and makes the caller return NULL. */
#define THROW_TYPE(env, message) do { napi_throw_type_error((env), NULL, (message)); return NULL; } while (0)
#define THROW_RANGE(env, message) do { napi_throw_range_error((env), NULL, (message)); return NULL; } while (0)
#define CHECK_NAPI(env, call) do { if ((call) != napi_ok) THROW_TYPE((env), "blux-reg native: N-API call failed"); } while (0)

/* The bytes of a typed array of the given element type; false when `value` is not one. */
static int typed_array_of(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return 0;
  napi_typedarray_type type;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &byte_offset) != napi_ok) return 0;
  return type == want;
}

/*
 * sha256Check(data: Uint8Array, offsets: Int32Array, count: number,
 *             claimed: Uint8Array, matches: Uint8Array): void
 *
 * Message i is data[offsets[i] .. offsets[i + 1]). Sets matches[i] to 1 when
 * its SHA-256 equals claimed[32 i .. 32 i + 32), else to 0, for i < count.
 * Offsets are an Int32Array because that is what the ledger scanner's
 * columns are (src/audit/wasm-scanner.ts); negative ones are refused.
 */
static napi_value sha256_check(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 5) THROW_TYPE(env, "sha256Check(data, offsets, count, claimed, matches) takes 5 arguments");

  uint8_t *data;
  size_t data_length;
  int32_t *offsets;
  size_t offsets_length;
  uint8_t *claimed;
  size_t claimed_length;
  uint8_t *matches;
  size_t matches_length;
  if (!typed_array_of(env, argv[0], napi_uint8_array, (void **)&data, &data_length)) THROW_TYPE(env, "sha256Check: data must be a Uint8Array");
  if (!typed_array_of(env, argv[1], napi_int32_array, (void **)&offsets, &offsets_length)) THROW_TYPE(env, "sha256Check: offsets must be an Int32Array");
  if (!typed_array_of(env, argv[3], napi_uint8_array, (void **)&claimed, &claimed_length)) THROW_TYPE(env, "sha256Check: claimed must be a Uint8Array");
  if (!typed_array_of(env, argv[4], napi_uint8_array, (void **)&matches, &matches_length)) THROW_TYPE(env, "sha256Check: matches must be a Uint8Array");

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
  if (offsets_length < count + 1) THROW_RANGE(env, "sha256Check: offsets needs count + 1 entries");
  if (claimed_length / DIGEST_BYTES < count) THROW_RANGE(env, "sha256Check: claimed needs 32 bytes per message");
  if (matches_length < count) THROW_RANGE(env, "sha256Check: matches needs one byte per message");
  if (offsets[0] < 0) THROW_RANGE(env, "sha256Check: offsets must not be negative");
  for (size_t i = 0; i < count; i++) {
    if (offsets[i] > offsets[i + 1]) THROW_RANGE(env, "sha256Check: offsets must not decrease");
  }
  if ((size_t)offsets[count] > data_length) THROW_RANGE(env, "sha256Check: a message ends past the end of data");

  SHA256_CTX context;
  uint8_t digest[DIGEST_BYTES];
  for (size_t i = 0; i < count; i++) {
    SHA256_Init(&context);
    SHA256_Update(&context, data + offsets[i], (size_t)(offsets[i + 1] - offsets[i]));
    SHA256_Final(digest, &context);
    matches[i] = memcmp(digest, claimed + i * DIGEST_BYTES, DIGEST_BYTES) == 0 ? 1 : 0;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value function;
  if (napi_create_function(env, "sha256Check", NAPI_AUTO_LENGTH, sha256_check, NULL, &function) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sha256Check", function) != napi_ok) return NULL;
  return exports;
}
