#![no_main]
//! The agent ↔ hub relay framing over untrusted bytes: never panics, never yields a data frame
//! over the limit, and yields the same frames whether the input arrives whole or in pieces.
use libfuzzer_sys::fuzz_target;
use systmone_gateway::relay::{Frame, FrameDecoder, decode_all};

const LIMIT: usize = 4096;

fn split(data: &[u8], chunk: usize) -> Result<Vec<Frame>, ()> {
    let mut decoder = FrameDecoder::new(LIMIT);
    let mut frames = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => return Err(()),
            }
        }
    }
    Ok(frames)
}

fuzz_target!(|data: &[u8]| {
    let whole = decode_all(data, LIMIT);
    if let Ok(frames) = &whole {
        for frame in frames {
            if let Frame::Data(_, bytes) = frame {
                assert!(bytes.len() <= LIMIT);
            }
        }
    }
    let pieces = split(data, 3);
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!("splitting the input changed whether it decodes"),
    }
});
