//! inspect and strip over arbitrary bytes: no panic, and every success gives
//! an output that inspects clean with the same format and dimensions, strips
//! to itself, and equals the input when the input had no metadata.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use roster_imaging::{Limits, inspect, strip};

fuzz_target!(|data: &[u8]| {
    let inspected = inspect(data, Limits::DEFAULT);
    let mut out = Vec::new();
    let stripped = strip(Cursor::new(data), &mut out, Limits::DEFAULT);
    match (inspected, stripped) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b);
            if !a.has_metadata {
                assert!(out == data);
            }
            let again = inspect(out.as_slice(), Limits::DEFAULT).expect("strip output refused");
            assert!(!again.has_metadata);
            assert_eq!(
                (again.format, again.width, again.height),
                (a.format, a.width, a.height)
            );
            let mut twice = Vec::new();
            strip(Cursor::new(&out), &mut twice, Limits::DEFAULT).expect("strip output cannot be stripped");
            assert!(twice == out);
        }
        (Err(a), Err(b)) => assert_eq!(std::mem::discriminant(&a), std::mem::discriminant(&b)),
        (a, b) => panic!("inspect and strip disagree: {a:?} / {b:?}"),
    }
});
