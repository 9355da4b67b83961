#!/usr/bin/env python3
"""Write tests/fixtures/canonical-python-golden.json.

Each entry is {"input": <JSON text>, "canonical": <what the Python original
signs>}, where canonical = json.dumps(json.loads(input), sort_keys=True,
separators=(",", ":")) with the default ensure_ascii=True. The TypeScript
test checks canonicalPython(parseJson(input)) == canonical for every entry.

Python 3 standard library only; deterministic (seeded), so re-running it
gives the same file. Reference interpreter: CPython 3.11.
"""

import json
import math
import random
import struct
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "canonical-python-golden.json"
SEED = 0x5EED_B10C


def canonical(text):
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def escaped(value):
    """JSON text with every non-ASCII character escaped (lone surrogates included)."""
    return json.dumps(value, ensure_ascii=True)


def raw(value):
    """JSON text keeping non-ASCII characters as themselves, to exercise the parser on them."""
    return json.dumps(value, ensure_ascii=False)


def string_cases():
    cases = []
    # Every ASCII character, alone and inside text.
    for code in range(0x80):
        cases.append(escaped(chr(code)))
        cases.append(escaped("a" + chr(code) + "z"))
    # The optional escapes the parser must understand, written by hand.
    cases += ['"\\/"', '"\\u0041\\u00e9"', '"\\uFFFF\\uABCD"', '"\\b\\f\\n\\r\\t\\"\\\\"']
    # A sample of the BMP above ASCII, both escaped and raw in the input.
    bmp = [0x80, 0x9F, 0xA0, 0xFF, 0x100, 0x7FF, 0x800, 0x2028, 0x2029, 0x20AC,
           0xD7FF, 0xE000, 0xF8FF, 0xFDD0, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF]
    rng = random.Random(SEED)
    bmp += [rng.randrange(0x80, 0xD800) for _ in range(40)]
    bmp += [rng.randrange(0xE000, 0x10000) for _ in range(20)]
    for code in bmp:
        cases.append(escaped(chr(code)))
        cases.append(raw("x" + chr(code) + "y"))
    # Astral characters: Python escapes them as a surrogate pair.
    for code in [0x10000, 0x1D11E, 0x1F600, 0x10FFFF]:
        cases.append(escaped(chr(code)))
        cases.append(raw(chr(code) + "!"))
    # Lone and oddly ordered surrogates (only writable as escapes).
    cases += ['"\\ud800"', '"\\udfff"', '"\\udc00\\ud800"', '"a\\ud834b"', '"\\ud834\\ud834\\udd1e"']
    cases.append(raw("résumé café ✓ 日本語 \U0001F600"))
    return cases


def key_order_cases():
    private_use_vs_astral = {
        "\ue000": 1, "\uffff": 2, "\U0001d11e": 3, "\U0001f600": 4,
        "\ud7ff": 5, "a": 6, "": 7, "A": 8, "\x7f": 9, "é": 10,
    }
    cases = [
        escaped(private_use_vs_astral),
        raw(private_use_vs_astral),
        # Lone surrogates sort as their own code point, below U+E000.
        '{"\\ue000":1,"\\ud800":2,"\\ud83d\\ude00":3,"\\udfff":4,"\\ud800a":5}',
        escaped({"b": {"\uffff": [], "\U00010000": {}, "\ue000": None}, "a": [{"z": 1, "y": {"\U0001d11e": 0, "\uf000": 1}}]}),
        escaped({"aa": 1, "a": 2, "ab": 3, "b": 4, "a\x00": 5, "B": 6}),
        escaped({"10": 1, "9": 2, "1": 3, "__proto__": 4, "constructor": 5, "toJSON": 6}),
        '{}', '[]', '[[[]]]', '{"a":{}}',
        ' \t\r\n{ "z" : [ 1 , 2 ] , "y" : null , "x" : true , "w" : false } \n',
    ]
    return cases


FLOAT_LITERALS = [
    "1.0", "-0.0", "0.0", "1e-07", "1e+16", "1e16", "1e15", "1E15", "9999999999999998.0",
    "1e-7", "5e-324", "-5e-324", "2.2250738585072014e-308", "1.7976931348623157e308",
    "-1.7976931348623157e+308", "123456789.123", "1e22", "1e21", "1e+21", "1e23", "0.0001",
    "0.00001", "0.000123", "1.5e+300", "1.5e-300", "100000.0", "12345678901234567890.0",
    "0.1", "0.2", "0.3", "3.14159", "2.5", "-2.5", "1.25e-5", "4.35", "0.5e1", "10E-1",
    "1.0000000000000002", "0.9999999999999999", "123e-2", "1.23456789012345678901234567890",
    "1e0", "0e0", "0E+0", "-0e-0", "0.0e5", "1E2", "1e2", "-1E-2", "1e-400", "2e-323",
    "9007199254740993.0", "4.9406564584124654e-324", "1.7976931348623158e308",
]

INTEGER_LITERALS = [
    "0", "-0", "1", "-1", "9007199254740991", "9007199254740992", "9007199254740993",
    "-9007199254740993", str(2**64), str(-(2**64)), str(2**200), str(-(2**200)),
    "123456789012345678901234567890",
]


def number_cases():
    cases = list(FLOAT_LITERALS) + list(INTEGER_LITERALS)
    cases.append(repr(0.1 + 0.2))
    cases.append("[" + ",".join(FLOAT_LITERALS + INTEGER_LITERALS) + "]")
    return cases


def random_doubles():
    """Doubles of every magnitude, written by repr and as 17 significant digits."""
    rng = random.Random(SEED + 1)
    values = []
    while len(values) < 1200:
        # Uniform over bit patterns: every exponent is equally likely.
        (value,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(value):
            values.append(value)
    for _ in range(400):
        # Around the fixed/scientific boundaries, where formatting is subtle.
        exponent = rng.choice([-6, -5, -4, -3, 14, 15, 16, 17, 20, 21, 22])
        values.append(rng.uniform(1, 10) * 10.0 ** exponent * rng.choice([1, -1]))
    for _ in range(400):
        # Short decimals and integral floats, the values people actually write.
        values.append(round(rng.uniform(-1e6, 1e6), rng.randrange(0, 7)))
    cases = []
    for index, value in enumerate(values):
        text = repr(value)
        # The non-shortest spelling checks that the literal is re-read, not echoed.
        cases.append(text if index % 2 == 0 else "%.17e" % value)
    return cases


def mixed_cases():
    document = {
        "schema_version": "1.0",
        "artifact_path": "résumé café ✓.txt",
        "size": 4321,
        "ratio": 0.5,
        "nested": {"list": [1, 2.0, "three", None, True, False, {"k": "\u2713"}], "empty": {}},
        "emoji": "\U0001F512 locked",
        "control": "tab\there\nnewline\x01\x1f\x7f",
    }
    return [escaped(document), raw(document), json.dumps(document, indent=2, ensure_ascii=False)]


def main():
    if sys.version_info < (3, 7):
        sys.exit("Python 3.7 or later is required (insertion-ordered dicts)")
    inputs = string_cases() + key_order_cases() + number_cases() + random_doubles() + mixed_cases()
    entries = [{"input": text, "canonical": canonical(text)} for text in inputs]
    for entry in entries:
        # Python writes Infinity for overflowing floats; the golden set stays within JSON.
        if "Infinity" in entry["canonical"] or "NaN" in entry["canonical"]:
            sys.exit("non-JSON output for input %r" % entry["input"])
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("w", encoding="ascii", newline="\n") as out:
        out.write("[\n")
        out.write(",\n".join(json.dumps(entry, sort_keys=True) for entry in entries))
        out.write("\n]\n")
    print("wrote %d entries (Python %s) to %s" % (len(entries), sys.version.split()[0], OUTPUT))


if __name__ == "__main__":
    main()
