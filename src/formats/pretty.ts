/**
 * Indents canonical (Python-scheme) JSON the way Python's
 * `json.dump(obj, indent=2, sort_keys=True)` lays out a file: the original
 * writes manifests and tokens like that. Working on the canonical text keeps
 * one source of truth for escaping, number formatting and key order: this
 * function only adds white space outside strings.
 */
export function indentCanonicalJson(canonical: string, indent = 2): string {
  let out = '';
  let depth = 0;
  let inString = false;
  const newline = (level: number): string => '\n' + ' '.repeat(level * indent);

  for (let i = 0; i < canonical.length; i++) {
    const ch = canonical[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += canonical[++i] ?? '';
      } else if (ch === '"') {
        inString = false;
      }
      continue;
    }
    switch (ch) {
      case '"':
        inString = true;
        out += ch;
        break;
      case '{':
      case '[': {
        const close = ch === '{' ? '}' : ']';
        // Python writes empty containers as `{}` / `[]` on one line.
        if (canonical[i + 1] === close) {
          out += ch + close;
          i++;
        } else {
          depth++;
          out += ch + newline(depth);
        }
        break;
      }
      case '}':
      case ']':
        depth--;
        out += newline(depth) + ch;
        break;
      case ',':
        out += ',' + newline(depth);
        break;
      case ':':
        out += ': ';
        break;
      default:
        out += ch;
    }
  }
  return out;
}
