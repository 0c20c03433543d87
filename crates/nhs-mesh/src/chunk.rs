//! Chunking and compression (sans-IO).
//!
//! MESH rules: split the *uncompressed* data, then gzip each chunk on its own (every chunk a
//! complete gzip member, `Content-Encoding: gzip` on each); the receiver decodes each chunk
//! on its own and concatenates. Never compress the whole file and then split it.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::MeshError;

/// The chunk size this crate uses unless told otherwise: 20 MiB (the notes' safe range is
/// 5–20 MB; every chunk but the last should be larger than 5 MB).
pub const DEFAULT_CHUNK_SIZE: usize = 20 * 1024 * 1024;

/// The byte ranges of each chunk of `len` bytes split into chunks of `chunk_size`
/// (always at least one chunk, even for empty data).
pub fn chunk_ranges(len: usize, chunk_size: usize) -> Vec<std::ops::Range<usize>> {
    let size = chunk_size.max(1);
    if len == 0 {
        #[allow(clippy::single_range_in_vec_init)]
        return vec![0..0];
    }
    (0..len.div_ceil(size))
        .map(|i| i * size..((i + 1) * size).min(len))
        .collect()
}

/// Gzips one chunk.
///
/// # Errors
/// [`MeshError::Config`] if the encoder fails (it writes to memory, so only on allocation
/// failure).
pub fn gzip(data: &[u8]) -> Result<Vec<u8>, MeshError> {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 3 + 64), Compression::fast());
    enc.write_all(data)
        .and_then(|()| enc.finish())
        .map_err(|e| MeshError::Config(format!("gzip failed: {e}")))
}

/// Decodes one gzip chunk (all its members), refusing output beyond `remaining` bytes (the
/// cap on the whole message minus what is already decoded).
///
/// # Errors
/// [`MeshError::TooLarge`] past the cap (a gzip bomb stops there),
/// [`MeshError::Malformed`] for data that is not gzip.
pub fn gunzip_capped(data: &[u8], remaining: u64, limit: u64) -> Result<Vec<u8>, MeshError> {
    let mut out = Vec::new();
    let mut dec = MultiGzDecoder::new(data).take(remaining.saturating_add(1));
    dec.read_to_end(&mut out)
        .map_err(|e| MeshError::Malformed {
            operation: "download",
            detail: format!("gzip: {}", e.kind()),
        })?;
    if out.len() as u64 > remaining {
        return Err(MeshError::TooLarge {
            operation: "download",
            limit,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges() {
        assert_eq!(chunk_ranges(0, 10), vec![0..0]);
        assert_eq!(chunk_ranges(10, 10), vec![0..10]);
        assert_eq!(chunk_ranges(25, 10), vec![0..10, 10..20, 20..25]);
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_cap() {
        let bomb = gzip(&vec![0u8; 10_000_000]).unwrap();
        assert!(bomb.len() < 100_000);
        assert!(matches!(
            gunzip_capped(&bomb, 1_000_000, 1_000_000),
            Err(MeshError::TooLarge { .. })
        ));
        assert!(matches!(
            gunzip_capped(b"not gzip", 100, 100),
            Err(MeshError::Malformed { .. })
        ));
    }

    proptest! {
        #[test]
        fn split_gzip_each_then_join_round_trips(data in proptest::collection::vec(any::<u8>(), 0..5000), size in 1usize..700) {
            let mut joined = Vec::new();
            for r in chunk_ranges(data.len(), size) {
                let z = gzip(&data[r]).unwrap();
                joined.extend(gunzip_capped(&z, u64::MAX - 1, u64::MAX).unwrap());
            }
            prop_assert_eq!(joined, data);
        }
    }
}
