//! Escaping attribute values in one pass, with the check for characters XML cannot carry
//! fused into it.

/// Bytes that need a look when escaping an attribute value: markup characters, controls, and
/// the lead byte of U+FFFE / U+FFFF.
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[0xEF] = true;
    table
};

/// Whether a byte needs a look (as [`SPECIAL`], but branch-free so that whole chunks can be
/// tested at once: controls, `"`, `&`, `<`, `>`, and any non-ASCII byte).
#[inline(always)]
fn maybe_special(b: u8) -> bool {
    !(0x20..0x80).contains(&b) || b == b'"' || b == b'&' || b == b'<' || b == b'>'
}

/// The index of the first byte [`SPECIAL`] marks. Long values (a base64 attachment) are
/// tested 64 bytes at a time with a test the compiler can vectorise.
fn first_special(bytes: &[u8]) -> Option<usize> {
    const CHUNK: usize = 64;
    let mut start = 0;
    for chunk in bytes.chunks_exact(CHUNK) {
        if chunk.iter().fold(false, |any, &b| any | maybe_special(b))
            && let Some(i) = chunk.iter().position(|&b| SPECIAL[usize::from(b)])
        {
            return Some(start + i);
        }
        start += CHUNK;
    }
    bytes
        .get(start..)?
        .iter()
        .position(|&b| SPECIAL[usize::from(b)])
        .map(|i| start + i)
}

/// Escapes an attribute value into `out` (as the JSON → XML writer does); `false` (and the
/// output left unfinished) if the value holds a character XML cannot carry.
pub(super) fn escape_attribute(out: &mut String, value: &str) -> bool {
    let Some(first) = first_special(value.as_bytes()) else {
        out.push_str(value);
        return true;
    };
    let (clean, rest) = value.split_at(first);
    out.push_str(clean);
    for c in rest.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{8}'
            | '\u{B}'
            | '\u{C}'
            | '\u{E}'..='\u{1F}'
            | '\u{FFFE}'
            | '\u{FFFF}' => {
                return false;
            }
            c => out.push(c),
        }
    }
    true
}
