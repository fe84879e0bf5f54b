//! Plain benchmark (no harness): the cost of inspecting and stripping a 5 MiB
//! JPEG carrying a 64 KB EXIF block, against the same JPEG without metadata,
//! from memory and between files as the server does it.
//!
//! `CARGO_TARGET_DIR=/work/target-imaging cargo bench --bench strip`
//!
//! The JPEG is synthetic: real marker segments around 5 MiB of
//! pseudo-random entropy-coded data (FF bytes stuffed, a restart marker every
//! 4 KiB), which is all the stripper looks at; it is never decoded.

use std::hint::black_box;
use std::io::{Cursor, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use roster_imaging::{Limits, inspect, strip};

fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
}

/// An EXIF block of `size` bytes: Orientation 6, Make, and a MakerNote blob.
fn exif(size: usize) -> Vec<u8> {
    let mut t = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x03".to_vec();
    let blob_len = size - 6 - 8 - 2 - 3 * 12 - 4 - 8;
    t.extend_from_slice(&[0x01, 0x0F, 0, 2, 0, 0, 0, 8, 0, 0, 0, 50]); // Make at 50
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation
    t.extend_from_slice(&[0x92, 0x7C, 0, 7]); // MakerNote, UNDEFINED
    t.extend_from_slice(&u32::try_from(blob_len).unwrap().to_be_bytes());
    t.extend_from_slice(&58u32.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(b"PhoneMkr");
    let mut x = 0x1234_5678u32;
    t.extend((0..blob_len).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    assert_eq!(t.len(), size);
    t
}

fn jpeg(entropy_len: usize, exif_size: Option<usize>) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    segment(&mut j, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    if let Some(size) = exif_size {
        segment(&mut j, 0xE1, &exif(size));
    }
    // Quantisation tables 0 and 1, as the frame header references them.
    let mut dqt = vec![0u8; 130];
    dqt[65] = 1;
    segment(&mut j, 0xDB, &dqt);
    segment(
        &mut j,
        0xC0,
        &[
            8, 0x0B, 0xB8, 0x0F, 0xA0, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
        ],
    );
    // One Huffman table holding one code.
    let mut dht = vec![0u8; 18];
    dht[1] = 1;
    segment(&mut j, 0xC4, &dht);
    segment(&mut j, 0xDD, &[0, 0]);
    segment(&mut j, 0xDA, &[3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0]);
    let mut x = 0x9E37_79B9u32;
    let mut rst = 0u8;
    for i in 0..entropy_len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let b = x as u8;
        j.push(b);
        if b == 0xFF {
            j.push(0);
        }
        if i % 4096 == 4095 {
            j.extend_from_slice(&[0xFF, 0xD0 + rst]);
            rst = (rst + 1) % 8;
        }
    }
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

fn time(mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let mut runs: Vec<Duration> = (0..21)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    runs.sort();
    runs[runs.len() / 2]
}

fn report(what: &str, bytes: usize, d: Duration) {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "{what:<48} {:>8.2} ms  {:>8.0} MiB/s",
        d.as_secs_f64() * 1e3,
        mib / d.as_secs_f64()
    );
}

fn main() {
    let target = 5 * 1024 * 1024;
    let entropy = target - 70_000;
    let with = jpeg(entropy, Some(64 * 1024 - 2 - 2));
    let without = jpeg(entropy, None);
    println!(
        "JPEG with 64 KB EXIF: {} bytes; without metadata: {} bytes (median of 21 runs)\n",
        with.len(),
        without.len()
    );
    let stripped = {
        let mut out = Vec::new();
        strip(Cursor::new(&with), &mut out, Limits::DEFAULT).unwrap();
        out
    };
    // The 64 KB EXIF became a 36-byte minimal one (orientation 6).
    assert_eq!(stripped.len(), without.len() + 36);

    for (name, data) in [("with 64 KB EXIF", &with), ("without metadata", &without)] {
        let r = inspect(data.as_slice(), Limits::DEFAULT).unwrap();
        assert_eq!(r.has_metadata, name.starts_with("with "));
        report(
            &format!("memcpy baseline ({name})"),
            data.len(),
            time(|| {
                black_box(data.clone());
            }),
        );
        report(
            &format!("inspect, memory ({name})"),
            data.len(),
            time(|| {
                black_box(inspect(black_box(data.as_slice()), Limits::DEFAULT).unwrap());
            }),
        );
        let mut out = Vec::with_capacity(data.len());
        report(
            &format!("strip, memory to memory ({name})"),
            data.len(),
            time(|| {
                out.clear();
                black_box(strip(Cursor::new(black_box(data)), &mut out, Limits::DEFAULT).unwrap());
            }),
        );

        let dir = std::env::temp_dir().join(format!("roster-imaging-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src_path = dir.join("in.jpg");
        std::fs::write(&src_path, data).unwrap();
        let mut input = std::fs::File::open(&src_path).unwrap();
        report(
            &format!("inspect, file ({name})"),
            data.len(),
            time(|| {
                input.seek(SeekFrom::Start(0)).unwrap();
                black_box(inspect(&mut input, Limits::DEFAULT).unwrap());
            }),
        );
        report(
            &format!("strip, file to file ({name})"),
            data.len(),
            time(|| {
                input.seek(SeekFrom::Start(0)).unwrap();
                let mut output = std::fs::File::create(dir.join("out.jpg")).unwrap();
                black_box(strip(&mut input, &mut output, Limits::DEFAULT).unwrap());
                output.flush().unwrap();
            }),
        );
        report(
            &format!("std::fs::copy baseline ({name})"),
            data.len(),
            time(|| {
                std::fs::copy(&src_path, dir.join("copy.jpg")).unwrap();
            }),
        );
        std::fs::remove_dir_all(&dir).unwrap();
        println!();
    }
}
