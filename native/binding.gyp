{
  "targets": [
    {
      "target_name": "blux_native",
      "sources": ["blux_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O2", "-Wall", "-Wextra"] }
    }
  ]
}
