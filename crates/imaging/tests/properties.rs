//! Property tests: over truncated and mutated real fixtures, and random
//! bytes, strip never panics and every success satisfies the invariants in
//! `common::check_invariants`.

mod common;

use common::{check_invariants, fixtures};
use proptest::prelude::*;

fn fixture_bytes() -> impl Strategy<Value = Vec<u8>> {
    let n = fixtures().len();
    (0..n).prop_map(|i| fixtures()[i].bytes.clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn truncated_fixtures(data in fixture_bytes(), cut in any::<prop::sample::Index>()) {
        let len = cut.index(data.len() + 1);
        check_invariants(&data[..len]);
    }

    #[test]
    fn mutated_fixtures(
        data in fixture_bytes(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
    ) {
        let mut data = data;
        for (at, byte, how) in edits {
            let i = at.index(data.len());
            match how {
                0 => data[i] = byte,
                1 => data[i] ^= 1 << (byte % 8),
                2 => { data.remove(i); }
                _ => data.insert(i, byte),
            }
            if data.is_empty() {
                break;
            }
        }
        check_invariants(&data);
    }

    #[test]
    fn mutated_headers(data in fixture_bytes(), at in 0usize..64, byte in any::<u8>()) {
        // The first bytes hold the signature, sizes and dimensions.
        let mut data = data;
        if at < data.len() {
            data[at] = byte;
        }
        check_invariants(&data);
    }

    #[test]
    fn random_bytes_after_a_signature(
        sig in prop::sample::select(vec![
            &b"\x89PNG\r\n\x1a\n"[..], b"\xFF\xD8\xFF", b"GIF89a", b"GIF87a", b"RIFF\x20\0\0\0WEBPVP8X",
            b"RIFF\x20\0\0\0WEBPVP8L", b"RIFF\x20\0\0\0WEBPVP8 ", b"",
        ]),
        tail in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut data = sig.to_vec();
        data.extend_from_slice(&tail);
        check_invariants(&data);
    }
}
