//! The streaming framer: cuts a byte stream into XML documents.
//!
//! A message is complete when its root element has closed **and** a newline follows, so a raw
//! newline inside a text value never cuts a message short. The framer tracks markup (tags,
//! quoted attribute values, comments, CDATA, processing instructions, declarations) byte by
//! byte, resumes exactly where the previous [`Framer::push`] stopped, and never looks at a
//! byte twice. It works for both directions (requests on the server side, responses on the
//! client side). It does not check well-formedness: the decoder does that.

use std::fmt;

use crate::error::Error;

/// Default maximum message size: 32 MiB (a full record can be several MB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 32 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Character data (or whitespace between messages at depth 0).
    Text,
    /// Just read `<`.
    Open,
    /// Inside a start tag; `quote` is the open quote, `slash` whether the last byte was `/`.
    StartTag { quote: Option<u8>, slash: bool },
    /// Inside an end tag.
    EndTag,
    /// Inside `<? … ?>`; `question` whether the last byte was `?`.
    Pi { question: bool },
    /// After `<!`, `matched` bytes of `--` or `[CDATA[` seen so far.
    Bang {
        matched: usize,
        comment: bool,
        cdata: bool,
    },
    /// Inside `<!-- … -->`; `dashes` consecutive `-` just seen.
    Comment { dashes: usize },
    /// Inside `<![CDATA[ … ]]>`; `brackets` consecutive `]` just seen.
    CData { brackets: usize },
    /// Inside `<!DOCTYPE …>` or similar; bracket depth and quote.
    Decl { depth: usize, quote: Option<u8> },
    /// The root element closed; waiting for the newline.
    AfterRoot,
}

/// Splits a byte stream into whole messages. Feed bytes with [`Framer::push`], then take
/// messages with [`Framer::next_message`] until it returns `Ok(None)`. `Debug` shows how many
/// bytes are buffered, never the bytes (they are patient data).
pub struct Framer {
    buffer: Vec<u8>,
    /// Next byte of `buffer` to scan.
    scanned: usize,
    /// Start of the current message in `buffer` (`None` while only whitespace was seen).
    start: Option<usize>,
    depth: usize,
    state: State,
    max_message_size: usize,
}

impl fmt::Debug for Framer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Framer")
            .field("buffered", &self.buffer.len())
            .field("scanned", &self.scanned)
            .field("start", &self.start)
            .field("depth", &self.depth)
            .field("state", &self.state)
            .field("max_message_size", &self.max_message_size)
            .finish_non_exhaustive()
    }
}

impl Default for Framer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_MESSAGE_SIZE)
    }
}

const CDATA: &[u8] = b"[CDATA[";

impl Framer {
    /// A framer that refuses messages larger than `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        Self {
            buffer: Vec::new(),
            scanned: 0,
            start: None,
            depth: 0,
            state: State::Text,
            max_message_size,
        }
    }

    /// The configured maximum message size.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held that are not yet part of a yielded message.
    pub fn buffered_len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether a message has started but not finished (useful at end of stream: the peer
    /// closed mid-message).
    pub fn has_partial_message(&self) -> bool {
        self.start.is_some()
    }

    /// Forgets everything buffered (after an error, before reusing the framer on a new
    /// connection).
    pub fn reset(&mut self) {
        *self = Self::new(self.max_message_size);
    }

    /// The next complete message (without its terminating newline), if one is buffered.
    ///
    /// Messages completed before a problem are always yielded first.
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] when the current message exceeds the maximum size, and
    /// [`Error::Malformed`] for text or an end tag outside any element. After an error the
    /// framer is reset: the connection should be dropped.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, Error> {
        match self.scan() {
            Ok(Some(end)) => {
                let start = self.start.take().unwrap_or(0);
                let mut message_end = end;
                while message_end > start
                    && matches!(self.buffer[message_end - 1], b'\r' | b' ' | b'\t')
                {
                    message_end -= 1;
                }
                let message = self.buffer[start..message_end].to_vec();
                self.buffer.drain(..=end);
                self.scanned = 0;
                self.depth = 0;
                self.state = State::Text;
                Ok(Some(message))
            }
            Ok(None) => {
                if self.start.is_none() {
                    // Only whitespace so far: nothing worth keeping.
                    self.buffer.clear();
                    self.scanned = 0;
                }
                Ok(None)
            }
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    /// Scans new bytes; returns the index of the newline ending a message.
    fn scan(&mut self) -> Result<Option<usize>, Error> {
        while self.scanned < self.buffer.len() {
            let i = self.scanned;
            let b = self.buffer[i];
            self.scanned += 1;
            if let Some(start) = self.start
                && i - start >= self.max_message_size
            {
                return Err(Error::MessageTooLarge {
                    limit: self.max_message_size,
                });
            }
            match self.state {
                State::Text => {
                    if b == b'<' {
                        if self.start.is_none() {
                            self.start = Some(i);
                        }
                        self.state = State::Open;
                    } else if self.depth == 0 && !b.is_ascii_whitespace() {
                        return Err(Error::Malformed {
                            position: i as u64,
                            reason: "text outside the root element".to_owned(),
                        });
                    }
                }
                State::Open => {
                    self.state = match b {
                        b'/' => State::EndTag,
                        b'?' => State::Pi { question: false },
                        b'!' => State::Bang {
                            matched: 0,
                            comment: true,
                            cdata: true,
                        },
                        _ => State::StartTag {
                            quote: None,
                            slash: false,
                        },
                    };
                }
                State::StartTag { quote, slash } => match (quote, b) {
                    (Some(q), _) if b == q => {
                        self.state = State::StartTag {
                            quote: None,
                            slash: false,
                        }
                    }
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => {
                        self.state = State::StartTag {
                            quote: Some(b),
                            slash: false,
                        }
                    }
                    (None, b'>') => {
                        if !slash {
                            self.depth += 1;
                            self.state = State::Text;
                        } else {
                            self.element_closed();
                        }
                    }
                    (None, _) => {
                        self.state = State::StartTag {
                            quote: None,
                            slash: b == b'/',
                        }
                    }
                },
                State::EndTag => {
                    if b == b'>' {
                        if self.depth == 0 {
                            return Err(Error::Malformed {
                                position: i as u64,
                                reason: "end tag outside any element".to_owned(),
                            });
                        }
                        self.depth -= 1;
                        self.element_closed();
                    }
                }
                State::Pi { question } => {
                    self.state = if question && b == b'>' {
                        State::Text
                    } else {
                        State::Pi {
                            question: b == b'?',
                        }
                    };
                }
                State::Bang {
                    matched,
                    comment,
                    cdata,
                } => {
                    let comment = comment && matched < 2 && b == b'-';
                    let cdata = cdata && matched < CDATA.len() && b == CDATA[matched];
                    let matched = matched + 1;
                    self.state = if comment && matched == 2 {
                        State::Comment { dashes: 0 }
                    } else if cdata && matched == CDATA.len() {
                        State::CData { brackets: 0 }
                    } else if comment || cdata {
                        State::Bang {
                            matched,
                            comment,
                            cdata,
                        }
                    } else {
                        // A declaration such as <!DOCTYPE …>: re-read this byte in Decl.
                        self.scanned -= 1;
                        State::Decl {
                            depth: 0,
                            quote: None,
                        }
                    };
                }
                State::Comment { dashes } => {
                    self.state = if b == b'>' && dashes >= 2 {
                        State::Text
                    } else if b == b'-' {
                        State::Comment { dashes: dashes + 1 }
                    } else {
                        State::Comment { dashes: 0 }
                    };
                }
                State::CData { brackets } => {
                    self.state = if b == b'>' && brackets >= 2 {
                        State::Text
                    } else if b == b']' {
                        State::CData {
                            brackets: brackets + 1,
                        }
                    } else {
                        State::CData { brackets: 0 }
                    };
                }
                State::Decl { depth, quote } => {
                    self.state = match (quote, b) {
                        (Some(q), _) if b == q => State::Decl { depth, quote: None },
                        (Some(_), _) => State::Decl { depth, quote },
                        (None, b'"' | b'\'') => State::Decl {
                            depth,
                            quote: Some(b),
                        },
                        (None, b'[') => State::Decl {
                            depth: depth + 1,
                            quote: None,
                        },
                        (None, b']') => State::Decl {
                            depth: depth.saturating_sub(1),
                            quote: None,
                        },
                        (None, b'>') if depth == 0 => State::Text,
                        _ => State::Decl { depth, quote },
                    };
                }
                State::AfterRoot => {
                    if b == b'\n' {
                        return Ok(Some(i));
                    }
                }
            }
        }
        Ok(None)
    }

    /// After an element closed: at depth 0 the root is complete.
    fn element_closed(&mut self) {
        self.state = if self.depth == 0 {
            State::AfterRoot
        } else {
            State::Text
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(framer: &mut Framer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(m) = framer.next_message().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn newline_inside_text_does_not_cut_the_message() {
        let mut f = Framer::default();
        f.push(b"<R><Content>line one\nline two</Content></R>\n<R a='>'/>\n");
        let messages = all(&mut f);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            b"<R><Content>line one\nline two</Content></R>".to_vec()
        );
        assert_eq!(messages[1], b"<R a='>'/>".to_vec());
        assert_eq!(f.buffered_len(), 0);
    }

    #[test]
    fn waits_for_the_newline_after_the_root() {
        let mut f = Framer::default();
        f.push(b"<?xml version=\"1.0\"?><!-- c -> --><R><![CDATA[</R>]]></R>");
        assert_eq!(f.next_message().unwrap(), None);
        f.push(b"\r\n");
        assert_eq!(
            f.next_message().unwrap().unwrap(),
            b"<?xml version=\"1.0\"?><!-- c -> --><R><![CDATA[</R>]]></R>".to_vec()
        );
    }

    #[test]
    fn oversized_message_is_refused_after_earlier_ones_are_yielded() {
        let mut f = Framer::new(16);
        f.push(b"<a/>\n<b>0123456789abcdef</b>\n");
        assert_eq!(f.next_message().unwrap().unwrap(), b"<a/>".to_vec());
        assert_eq!(
            f.next_message().unwrap_err(),
            Error::MessageTooLarge { limit: 16 }
        );
    }

    #[test]
    fn text_outside_root_is_an_error() {
        let mut f = Framer::default();
        f.push(b"hello\n");
        assert!(matches!(f.next_message(), Err(Error::Malformed { .. })));
    }
}
