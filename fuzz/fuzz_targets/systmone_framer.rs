#![no_main]
//! The streaming framer over untrusted bytes: never panics, never yields a message over its
//! limit, and yields the same messages whether the input arrives whole or in small chunks.
use libfuzzer_sys::fuzz_target;
use systmone_api::Framer;

fn frame(data: &[u8], chunk: usize) -> Vec<Result<Vec<u8>, ()>> {
    let mut framer = Framer::new(4096);
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        framer.push(piece);
        loop {
            match framer.next_message() {
                Ok(Some(message)) => {
                    assert!(message.len() <= 4096);
                    let _ = systmone_api::ClientIntegrationResponse::decode(&message);
                    out.push(Ok(message));
                }
                Ok(None) => break,
                Err(_) => {
                    out.push(Err(()));
                    break;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let whole = frame(data, data.len());
    let split = frame(data, 3);
    // Up to the first error (after which the framer resets), splitting changes nothing.
    let ok_prefix = |v: &[Result<Vec<u8>, ()>]| -> Vec<Vec<u8>> {
        v.iter()
            .take_while(|r| r.is_ok())
            .filter_map(|r| r.clone().ok())
            .collect()
    };
    if !whole.iter().any(Result::is_err) && !split.iter().any(Result::is_err) {
        assert_eq!(ok_prefix(&whole), ok_prefix(&split));
    }
});
