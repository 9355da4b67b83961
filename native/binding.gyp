{
  "targets": [
    {
      "target_name": "blux_native",
      "sources": ["blux_native.c", "ledger_scan.c", "sha256_ni.c", "sha256_stream.c"],
      "cflags": ["-O3", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-Wall", "-Wextra"] }
    }
  ]
}
