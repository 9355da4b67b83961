/*
 * blux-reg's native kernel: the ledger audit's line scanner and entry-hash
 * check (ledger_scan.c), one call per chunk of ledger lines.
 *
 * Why it exists: a ledger audit spends its time per ~400-byte line. In
 * WebAssembly the scanner took ~0.35 us a line and each line's SHA-256
 * another crossing into C; here a whole chunk is split, scanned, hashed
 * (two lines at a time with the x86 SHA extensions, sha256_ni.c, else
 * OpenSSL's SHA-256) and compared in one call, and the JavaScript side
 * reads the answers as columns.
 *
 * This file only turns JavaScript arguments into C ones. A bad call throws a
 * TypeError or RangeError before anything is written.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_scan.h"
#include "sha256_stream.h"

/* Throws (as a pending JavaScript exception) and makes the caller return NULL. */
#define THROW_TYPE(env, message) do { napi_throw_type_error((env), NULL, (message)); return NULL; } while (0)
#define THROW_RANGE(env, message) do { napi_throw_range_error((env), NULL, (message)); return NULL; } while (0)
#define CHECK_NAPI(env, call) do { if ((call) != napi_ok) THROW_TYPE((env), "blux-reg native: N-API call failed"); } while (0)

/* Most lines one call may take: far above what a scanner asks for (4,096), far below what an int32 column index allows. */
#define MAX_ROWS_PER_CALL (1 << 20)

/* scanLines's result: rows, fast rows, bytes consumed, last line terminated, runs. */
#define RESULT_ENTRIES 5

/* Tags the name tables this addon made, so a call cannot be handed some other external. */
static const napi_type_tag NAMES_TAG = { 0x626c75782d726567ULL, 0x6c65646765726e6dULL };

/*
 * The call's arguments into argv (room for `most`); their count into *argc.
 * False, with a TypeError naming `usage`, unless there are `fewest` to `most`.
 */
static bool args_of(napi_env env, napi_callback_info info, napi_value *argv, size_t fewest, size_t most, size_t *argc, const char *usage) {
  *argc = most;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < fewest || *argc > most) {
    napi_throw_type_error(env, NULL, usage);
    return false;
  }
  return true;
}

/* A typed array's elements (already offset by its byteOffset) and length. */
typedef struct {
  void *data;
  size_t length;
} TypedView;

/*
 * The view of `value` when it is a typed array of type `want` over a plain
 * ArrayBuffer. Views of a SharedArrayBuffer are refused: another thread
 * could change the bytes between their check and their use.
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

/* `value` as an integer in [min, max], or -1 (with a pending exception) when it is not one. */
static int64_t integer_arg(napi_env env, napi_value value, double min, double max, const char *message) {
  napi_valuetype type;
  double number;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_double(env, value, &number) != napi_ok ||
      /* Range first: converting an out-of-range (or NaN) double to an integer is undefined in C. */
      !(number >= min && number <= max) || number != (double)(int64_t)number) {
    napi_throw_range_error(env, NULL, message);
    return -1;
  }
  return (int64_t)number;
}

/* The name table `value` when it is one createNames made, else NULL with a pending TypeError. */
static LedgerNames *names_arg(napi_env env, napi_value value) {
  bool tagged = false;
  napi_valuetype type;
  void *data = NULL;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external || napi_check_object_type_tag(env, value, &NAMES_TAG, &tagged) != napi_ok ||
      !tagged || napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "names must be a name table made by createNames()");
    return NULL;
  }
  return data;
}

static void free_names(napi_env env, void *data, void *hint) {
  (void)hint;
  free(data);
  int64_t adjusted;
  napi_adjust_external_memory(env, -(int64_t)sizeof(LedgerNames), &adjusted);
}

/* createNames(): a fresh, empty name table for one scanner (freed with it by the garbage collector). */
static napi_value create_names(napi_env env, napi_callback_info info) {
  (void)info;
  LedgerNames *names = calloc(1, sizeof(LedgerNames));
  if (names == NULL) THROW_RANGE(env, "createNames: out of memory");
  napi_value external;
  if (napi_create_external(env, names, free_names, NULL, &external) != napi_ok) {
    free(names);
    THROW_TYPE(env, "createNames: N-API call failed");
  }
  CHECK_NAPI(env, napi_type_tag_object(env, external, &NAMES_TAG));
  /* Tell the garbage collector what the table holds, so dropped scanners are collected in time. */
  int64_t adjusted;
  CHECK_NAPI(env, napi_adjust_external_memory(env, (int64_t)sizeof(LedgerNames), &adjusted));
  return external;
}

/* nameCount(names): how many names the table holds (ids 0 .. count - 1). */
static napi_value name_count(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[1];
  if (!args_of(env, info, argv, 1, 1, &argc, "nameCount(names) takes 1 argument")) return NULL;
  LedgerNames *names = names_arg(env, argv[0]);
  if (names == NULL) return NULL;
  napi_value count;
  CHECK_NAPI(env, napi_create_int32(env, names->count, &count));
  return count;
}

/* nameOf(names, id): the name with that id, as a latin1 string (names are ASCII: raw UTF-8 sends a line to the slow path). */
static napi_value name_of(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  if (!args_of(env, info, argv, 2, 2, &argc, "nameOf(names, id) takes 2 arguments")) return NULL;
  LedgerNames *names = names_arg(env, argv[0]);
  if (names == NULL) return NULL;
  const int64_t id = integer_arg(env, argv[1], 0, LEDGER_MAX_NAMES - 1, "nameOf: id must be an integer below the table's size");
  if (id < 0) return NULL;
  if (id >= names->count) THROW_RANGE(env, "nameOf: no name has that id yet");
  napi_value name;
  CHECK_NAPI(env, napi_create_string_latin1(env, (const char *)names->arena + (size_t)id * LEDGER_MAX_NAME_BYTES, (size_t)names->lengths[id], &name));
  return name;
}

/*
 * scanLines(bytes: Uint8Array, filled: number, atEnd: boolean,
 *           columns: Int32Array, rows: number, names, runs: Int32Array,
 *           result: Int32Array): void
 *
 * Scans bytes[0, filled) into at most `rows` lines (ledger_scan.h), filling
 * `columns` (26 arrays of rows + 1 entries, one after another), `names` and
 * `runs` (16 ints a row: the runs, then their name counts); result gets
 * [rows scanned, fast rows, bytes consumed, last line terminated, runs].
 * The output arrays may share no memory with `bytes` or each other.
 */
static napi_value scan_lines(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[8];
  if (!args_of(env, info, argv, 8, 8, &argc, "scanLines(bytes, filled, atEnd, columns, rows, names, runs, result) takes 8 arguments")) return NULL;

  TypedView bytes, columns, runs, result;
  if (!typed_view_of(env, argv[0], napi_uint8_array, &bytes)) THROW_TYPE(env, "scanLines: bytes must be a Uint8Array over an ArrayBuffer");
  if (!typed_view_of(env, argv[3], napi_int32_array, &columns)) THROW_TYPE(env, "scanLines: columns must be an Int32Array over an ArrayBuffer");
  if (!typed_view_of(env, argv[6], napi_int32_array, &runs)) THROW_TYPE(env, "scanLines: runs must be an Int32Array over an ArrayBuffer");
  if (!typed_view_of(env, argv[7], napi_int32_array, &result)) THROW_TYPE(env, "scanLines: result must be an Int32Array over an ArrayBuffer");
  const int64_t filled = integer_arg(env, argv[1], 0, INT32_MAX, "scanLines: filled must be an integer from 0 to 2^31 - 1");
  if (filled < 0) return NULL;
  bool at_end = false;
  if (napi_get_value_bool(env, argv[2], &at_end) != napi_ok) THROW_TYPE(env, "scanLines: atEnd must be a boolean");
  const int64_t rows = integer_arg(env, argv[4], 1, MAX_ROWS_PER_CALL, "scanLines: rows must be an integer from 1 to 2^20");
  if (rows < 0) return NULL;
  LedgerNames *names = names_arg(env, argv[5]);
  if (names == NULL) return NULL;

  if ((size_t)filled > bytes.length) THROW_RANGE(env, "scanLines: filled is past the end of bytes");
  const size_t column_entries = (size_t)LEDGER_SCAN_COLUMNS * (size_t)(rows + 1);
  if (columns.length < column_entries) THROW_RANGE(env, "scanLines: columns needs 26 * (rows + 1) entries");
  if (runs.length < LEDGER_RUN_INTS(rows)) THROW_RANGE(env, "scanLines: runs needs 16 * rows entries");
  if (result.length < RESULT_ENTRIES) THROW_RANGE(env, "scanLines: result needs 5 entries");
  const size_t column_bytes = column_entries * sizeof(int32_t);
  const size_t run_bytes = LEDGER_RUN_INTS(rows) * sizeof(int32_t);
  const size_t result_bytes = RESULT_ENTRIES * sizeof(int32_t);
  if (overlaps(columns.data, column_bytes, bytes.data, bytes.length) || overlaps(runs.data, run_bytes, bytes.data, bytes.length) ||
      overlaps(result.data, result_bytes, bytes.data, bytes.length) || overlaps(runs.data, run_bytes, columns.data, column_bytes) ||
      overlaps(result.data, result_bytes, columns.data, column_bytes) || overlaps(result.data, result_bytes, runs.data, run_bytes)) {
    THROW_RANGE(env, "scanLines: bytes, columns, runs and result must not share memory");
  }

  /* An empty view may have no buffer at all: never do arithmetic on a null pointer. */
  static const uint8_t no_bytes[1] = {0};
  LedgerScanResult scanned;
  if (ledger_scan_lines(bytes.length > 0 ? bytes.data : no_bytes, (size_t)filled, at_end, columns.data, (int32_t)rows, names, runs.data, &scanned) != 0) {
    THROW_TYPE(env, "scanLines: OpenSSL failed to hash");
  }
  int32_t *out = result.data;
  out[0] = scanned.rows;
  out[1] = scanned.fast_rows;
  out[2] = scanned.consumed;
  out[3] = scanned.last_terminated;
  out[4] = scanned.runs;
  return NULL;
}

/* hashImplementation(): how scanLines hashes here ("sha-ni": the x86 SHA extensions, two lines at a time; "openssl"). */
static napi_value hash_implementation(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value name;
  CHECK_NAPI(env, napi_create_string_utf8(env, ledger_scan_uses_sha_ni() ? "sha-ni" : "openssl", NAPI_AUTO_LENGTH, &name));
  return name;
}

/* The streams run on the SHA extensions only (sha256_stream.c); else a pending TypeError. */
static int sha_extensions_in_use(napi_env env) {
  if (ledger_scan_uses_sha_ni()) return 1;
  napi_throw_type_error(env, NULL, "sha256 stream: the CPU's SHA extensions are not in use here (see hashImplementation())");
  return 0;
}

/*
 * A stream's state: a Uint8Array of exactly SHA256_STREAM_BYTES over an
 * ArrayBuffer, else NULL with a pending TypeError. Every stream call reads
 * its first state here first, so the SHA extensions are checked here too.
 */
static uint8_t *stream_arg(napi_env env, napi_value value, const char *message) {
  if (!sha_extensions_in_use(env)) return NULL;
  TypedView view;
  if (!typed_view_of(env, value, napi_uint8_array, &view) || view.length != SHA256_STREAM_BYTES) {
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  return view.data;
}

/* Copies a stream's state in; refuses one whose digest was taken, or whose waiting bytes are not fewer than a block (corrupt). */
static int load_stream(napi_env env, const uint8_t *state, Sha256Stream *stream) {
  memcpy(stream, state, sizeof(*stream));
  if (stream->finished == 1) {
    napi_throw_range_error(env, NULL, "sha256 stream: its digest was taken already (sha256StreamInit starts a new one)");
    return 0;
  }
  if (stream->pending >= 64 || stream->finished != 0) {
    napi_throw_range_error(env, NULL, "sha256 stream: the state is corrupt");
    return 0;
  }
  return 1;
}

/* sha256StreamInit(state: Uint8Array): a fresh stream in `state` (sha256StreamBytes bytes). */
static napi_value sha256_stream_init_js(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[1];
  if (!args_of(env, info, argv, 1, 1, &argc, "sha256StreamInit(state) takes 1 argument")) return NULL;
  uint8_t *state = stream_arg(env, argv[0], "sha256StreamInit: state must be a Uint8Array of sha256StreamBytes bytes over an ArrayBuffer");
  if (state == NULL) return NULL;
  Sha256Stream stream;
  sha256_stream_init(&stream);
  memcpy(state, &stream, sizeof(stream));
  return NULL;
}

/*
 * sha256StreamUpdate(stateA, dataA[, stateB, dataB]): absorbs dataA into
 * stream A and dataB into stream B, two blocks at a time. The states may not
 * share memory with each other or with the data.
 */
static napi_value sha256_stream_update_js(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[4];
  if (!args_of(env, info, argv, 2, 4, &argc, "sha256StreamUpdate(stateA, dataA[, stateB, dataB]) takes 2 or 4 arguments")) return NULL;
  if (argc == 3) THROW_TYPE(env, "sha256StreamUpdate(stateA, dataA[, stateB, dataB]) takes 2 or 4 arguments");
  uint8_t *state_a = stream_arg(env, argv[0], "sha256StreamUpdate: stateA must be a Uint8Array of sha256StreamBytes bytes over an ArrayBuffer");
  if (state_a == NULL) return NULL;
  TypedView data_a, data_b = { NULL, 0 };
  if (!typed_view_of(env, argv[1], napi_uint8_array, &data_a)) THROW_TYPE(env, "sha256StreamUpdate: dataA must be a Uint8Array over an ArrayBuffer");
  uint8_t *state_b = NULL;
  if (argc == 4) {
    state_b = stream_arg(env, argv[2], "sha256StreamUpdate: stateB must be a Uint8Array of sha256StreamBytes bytes over an ArrayBuffer");
    if (state_b == NULL) return NULL;
    if (!typed_view_of(env, argv[3], napi_uint8_array, &data_b)) THROW_TYPE(env, "sha256StreamUpdate: dataB must be a Uint8Array over an ArrayBuffer");
  }
  const size_t n = SHA256_STREAM_BYTES;
  if (overlaps(state_a, n, data_a.data, data_a.length) || overlaps(state_a, n, data_b.data, data_b.length) ||
      (state_b != NULL && (overlaps(state_b, n, state_a, n) || overlaps(state_b, n, data_a.data, data_a.length) || overlaps(state_b, n, data_b.data, data_b.length)))) {
    THROW_RANGE(env, "sha256StreamUpdate: the states must not share memory with each other or with the data");
  }
  Sha256Stream a, b;
  if (!load_stream(env, state_a, &a) || (state_b != NULL && !load_stream(env, state_b, &b))) return NULL;
  static const uint8_t no_bytes[1] = {0};
  sha256_stream_update2(&a, data_a.length > 0 ? data_a.data : no_bytes, data_a.length, state_b != NULL ? &b : NULL,
                        data_b.length > 0 ? data_b.data : no_bytes, data_b.length);
  memcpy(state_a, &a, sizeof(a));
  if (state_b != NULL) memcpy(state_b, &b, sizeof(b));
  return NULL;
}

/* sha256StreamDigest(state, digest: Uint8Array(32)): the SHA-256 of everything the stream absorbed (the stream is then spent). */
static napi_value sha256_stream_digest_js(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  if (!args_of(env, info, argv, 2, 2, &argc, "sha256StreamDigest(state, digest) takes 2 arguments")) return NULL;
  uint8_t *state = stream_arg(env, argv[0], "sha256StreamDigest: state must be a Uint8Array of sha256StreamBytes bytes over an ArrayBuffer");
  if (state == NULL) return NULL;
  TypedView digest;
  if (!typed_view_of(env, argv[1], napi_uint8_array, &digest) || digest.length != 32) THROW_TYPE(env, "sha256StreamDigest: digest must be a Uint8Array of 32 bytes over an ArrayBuffer");
  if (overlaps(state, SHA256_STREAM_BYTES, digest.data, 32)) THROW_RANGE(env, "sha256StreamDigest: digest must not share memory with the state");
  Sha256Stream stream;
  if (!load_stream(env, state, &stream)) return NULL;
  sha256_stream_final(&stream, digest.data);
  memcpy(state, &stream, sizeof(stream));
  return NULL;
}

/*
 * alignmentGap(bytes: Uint8Array, alignment): how many bytes from bytes[0]
 * to the first address that is a multiple of `alignment` (a power of two
 * from 1 to 4096). io/aligned-buffer.ts uses it to start read buffers on a
 * 64-byte boundary: the kernel copies file data at a third to two thirds of
 * its speed into memory 1-31 bytes past the source's offset within its page,
 * and glibc's malloc (so Node's Buffer.allocUnsafeSlow) starts a large block
 * 16 bytes past a page, which a file read from position 0 always hits.
 */
static napi_value alignment_gap(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  if (!args_of(env, info, argv, 2, 2, &argc, "alignmentGap(bytes, alignment) takes 2 arguments")) return NULL;
  TypedView bytes;
  if (!typed_view_of(env, argv[0], napi_uint8_array, &bytes)) THROW_TYPE(env, "alignmentGap: bytes must be a Uint8Array over an ArrayBuffer");
  const int64_t alignment = integer_arg(env, argv[1], 1, 4096, "alignmentGap: alignment must be a power of two from 1 to 4096");
  if (alignment < 0) return NULL;
  if ((alignment & (alignment - 1)) != 0) THROW_RANGE(env, "alignmentGap: alignment must be a power of two from 1 to 4096");
  const uint32_t past = (uint32_t)((uintptr_t)bytes.data & (uintptr_t)(alignment - 1));
  napi_value gap;
  CHECK_NAPI(env, napi_create_uint32(env, past == 0 ? 0 : (uint32_t)alignment - past, &gap));
  return gap;
}

NAPI_MODULE_INIT() {
  static const struct { const char *name; napi_callback callback; } functions[] = {
    { "alignmentGap", alignment_gap },
    { "createNames", create_names },
    { "hashImplementation", hash_implementation },
    { "nameCount", name_count },
    { "nameOf", name_of },
    { "scanLines", scan_lines },
    { "sha256StreamDigest", sha256_stream_digest_js },
    { "sha256StreamInit", sha256_stream_init_js },
    { "sha256StreamUpdate", sha256_stream_update_js },
  };
  for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++) {
    napi_value function;
    if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].callback, NULL, &function) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, functions[i].name, function) != napi_ok) return NULL;
  }
  napi_value stream_bytes;
  if (napi_create_uint32(env, (uint32_t)SHA256_STREAM_BYTES, &stream_bytes) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "sha256StreamBytes", stream_bytes) != napi_ok) return NULL;
  return exports;
}
