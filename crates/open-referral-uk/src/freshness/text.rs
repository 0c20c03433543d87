//! The visible text of an HTML page, without IO: a tolerant one-pass scanner (no DOM), linear
//! in the input, that never fails. Scripts, styles, templates, comments and markup go; block
//! elements start new lines; character references are decoded; HTML whitespace (newlines
//! included) collapses to one space. `mailto:` and `tel:` link targets are kept apart, since
//! contact details often live only there.

/// Elements whose content is never shown as text.
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "iframe", "object", "canvas", "math",
];

/// Elements that start a new line.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "hr",
    "main",
    "aside",
    "form",
    "address",
    "blockquote",
    "pre",
    "title",
    "body",
    "html",
    "head",
    "figure",
    "figcaption",
    "option",
];

/// The most lines kept from one page.
pub const MAX_LINES: usize = 2_000;
/// The most characters kept in one line.
pub const MAX_LINE_CHARS: usize = 1_000;
/// The most `mailto:`/`tel:` links kept from one page.
pub const MAX_LINKS: usize = 200;

/// What a page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageText {
    /// Visible lines, trimmed, whitespace collapsed, empty ones dropped.
    pub lines: Vec<String>,
    /// The targets of `mailto:` and `tel:` links, as written.
    pub links: Vec<String>,
}

/// Extracts the visible text of `html` (any text: invalid markup is read as text).
pub fn visible_text(html: &str) -> PageText {
    let mut out = Builder::default();
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        out.text(&html[text_start..i]);
        let rest = &html[i..];
        if rest.starts_with("<!--") {
            i = find(html, i + 4, "-->").map_or(bytes.len(), |end| end + 3);
            text_start = i;
            continue;
        }
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        if next == b'!' || next == b'?' {
            i = find(html, i + 1, ">").map_or(bytes.len(), |end| end + 1);
            text_start = i;
            continue;
        }
        let closing = next == b'/';
        let name_start = if closing { i + 2 } else { i + 1 };
        let name_end = bytes[name_start.min(bytes.len())..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(bytes.len(), |p| name_start + p);
        if name_end == name_start || !bytes[name_start].is_ascii_alphabetic() {
            // A `<` that starts no tag is text (already flushed up to it).
            text_start = i;
            i += 1;
            continue;
        }
        let name = html[name_start..name_end].to_ascii_lowercase();
        let tag_end = tag_end(bytes, name_end);
        let attributes = &html[name_end..tag_end.min(bytes.len())];
        i = (tag_end + 1).min(bytes.len());
        text_start = i;
        if !closing && HIDDEN.contains(&name.as_str()) {
            let self_closing = attributes.trim_end().ends_with('/');
            if !self_closing {
                i = find_closing(html, i, &name);
                text_start = i;
            }
            continue;
        }
        if BLOCK.contains(&name.as_str()) {
            out.newline();
        } else if matches!(name.as_str(), "td" | "th") {
            out.text(" ");
        }
        if !closing
            && name == "a"
            && let Some(href) = attribute(attributes, "href")
        {
            let lower = href.to_ascii_lowercase();
            if (lower.starts_with("mailto:") || lower.starts_with("tel:"))
                && out.links.len() < MAX_LINKS
            {
                out.links.push(decode_entities(&href));
            }
        }
    }
    out.text(&html[text_start.min(html.len())..]);
    out.finish()
}

/// The byte index of the `>` ending a tag whose name ends at `from` (quotes respected), or
/// the end of the input.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut quote = None;
    let mut i = from;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return i,
            None => {}
        }
        i += 1;
    }
    bytes.len()
}

fn find(haystack: &str, from: usize, needle: &str) -> Option<usize> {
    haystack
        .get(from..)
        .and_then(|rest| rest.find(needle))
        .map(|p| from + p)
}

/// The index after `</name ...>` (ASCII case-insensitive), or the end of the input.
fn find_closing(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let mut i = from;
    while let Some(p) = find(html, i, "</") {
        let start = p + 2;
        let end = start + name.len();
        if end <= bytes.len()
            && bytes[start..end].eq_ignore_ascii_case(name.as_bytes())
            && bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric())
        {
            return (tag_end(bytes, end) + 1).min(bytes.len());
        }
        i = start;
    }
    bytes.len()
}

/// The value of attribute `name` in a tag's attribute text.
fn attribute(attributes: &str, name: &str) -> Option<String> {
    let bytes = attributes.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let key_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>')
        {
            i += 1;
        }
        let key = &attributes[key_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = None;
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    let start = i + 1;
                    let end = bytes[start.min(bytes.len())..]
                        .iter()
                        .position(|&b| b == q)
                        .map_or(bytes.len(), |p| start + p);
                    value = attributes.get(start.min(end)..end);
                    i = end + 1;
                }
                _ => {
                    let start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value = attributes.get(start..i);
                }
            }
        }
        if key.eq_ignore_ascii_case(name) {
            return value.map(str::to_owned);
        }
        if key.is_empty() {
            i += 1;
        }
    }
    None
}

/// Decodes the character references pages commonly use; unknown ones stay as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i);
        let decoded = end.and_then(|end| entity(&rest[1..end]).map(|c| (c, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "rsquo" | "lsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        "hellip" => '…',
        "copy" => '©',
        "pound" => '£',
        "euro" => '€',
        "bull" | "middot" => '·',
        _ => return None,
    })
}

#[derive(Default)]
struct Builder {
    lines: Vec<String>,
    line: String,
    links: Vec<String>,
}

impl Builder {
    fn text(&mut self, raw: &str) {
        if raw.is_empty() || self.lines.len() >= MAX_LINES {
            return;
        }
        let decoded = decode_entities(raw);
        for c in decoded.chars() {
            if c.is_whitespace() || c.is_control() {
                if !self.line.is_empty() && !self.line.ends_with(' ') {
                    self.line.push(' ');
                }
            } else if self.line.len() < MAX_LINE_CHARS * 4 {
                self.line.push(c);
            }
        }
    }

    fn newline(&mut self) {
        let line = self.line.trim();
        if !line.is_empty() && self.lines.len() < MAX_LINES {
            let line: String = line.chars().take(MAX_LINE_CHARS).collect();
            self.lines.push(line);
        }
        self.line.clear();
    }

    fn finish(mut self) -> PageText {
        self.newline();
        PageText {
            lines: self.lines,
            links: self.links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_styles_comments_and_markup_go() {
        let page = visible_text(
            "<html><head><title>Riverside</title><style>p{color:red}</style>\
             <script>var x = '<p>not text</p>';</script></head>\
             <body><!-- hidden --><p>Call  us\n on <b>0118&nbsp;496 0000</b></p>\
             <div>Mon&ndash;Fri</div><a href=\"mailto:hello@riverside.example\">e-mail</a></body></html>",
        );
        assert_eq!(
            page.lines,
            ["Riverside", "Call us on 0118 496 0000", "Mon–Fri", "e-mail"]
        );
        assert_eq!(page.links, ["mailto:hello@riverside.example"]);
    }

    #[test]
    fn broken_markup_is_text_and_never_panics() {
        for input in [
            "<",
            "<<>>",
            "a < b and c > d",
            "<p",
            "<script>never closed",
            "<!-- never closed",
            "<a href='x",
            "&#xFFFFFFFF; &#0; &bogus; &",
            "<1>two</1>",
            "é<p>ü",
        ] {
            let _ = visible_text(input);
        }
        assert_eq!(visible_text("a < b").lines, ["a < b"]);
        assert_eq!(visible_text("x &amp; y &#169; &#x41;").lines, ["x & y © A"]);
    }

    #[test]
    fn table_cells_share_a_line() {
        let page = visible_text("<table><tr><td>Monday</td><td>9am - 5pm</td></tr></table>");
        assert_eq!(page.lines, ["Monday 9am - 5pm"]);
    }
}
