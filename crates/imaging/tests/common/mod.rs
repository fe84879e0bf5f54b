//! Shared by the integration tests: fixtures made at test time by
//! `tests/fixtures/make_fixtures.py` (Pillow, exiftool, cwebp), and the
//! invariants every strip must satisfy.

#![allow(dead_code)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use roster_imaging::{ImageError, ImageFormat, Limits, inspect, strip};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Clean,
    Meta,
    Bomb,
}

#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    pub path: PathBuf,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub kind: Kind,
    pub orientation: u16,
    pub icc: bool,
    pub must: String,
    pub bytes: Vec<u8>,
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Python with Pillow: `$ROSTER_TEST_PYTHON`, else `<repo>/.venv/bin/python`.
pub fn python() -> PathBuf {
    let python = match std::env::var_os("ROSTER_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => manifest_dir().join("../../.venv/bin/python"),
    };
    let ok = Command::new(&python)
        .args(["-c", "import PIL.Image, PIL.ImageCms, PIL.WebPImagePlugin"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the imaging tests need a Python with Pillow at {} (set ROSTER_TEST_PYTHON, or \
         `.venv/bin/pip install Pillow==12.3.0`), and exiftool and cwebp on PATH \
         (`apt-get install -y libimage-exiftool-perl webp`)",
        python.display()
    );
    python
}

/// Runs one of the scripts in tests/fixtures/, failing the test with its output.
pub fn run_script(script: &str, args: &[&Path]) -> String {
    let out = Command::new(python())
        .arg(manifest_dir().join("tests/fixtures").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A directory of this test binary's own under the target directory, emptied.
pub fn scratch(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.file_stem().unwrap().to_string_lossy().into_owned();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{bin}-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fixtures, made once per test binary.
pub fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = scratch("fixtures");
        run_script("make_fixtures.py", &[&dir]);
        let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
        manifest
            .lines()
            .map(|line| {
                let c: Vec<&str> = line.split('\t').collect();
                assert_eq!(c.len(), 8, "bad manifest line {line:?}");
                let path = dir.join(c[0]);
                Fixture {
                    name: c[0].to_owned(),
                    bytes: std::fs::read(&path).unwrap(),
                    path,
                    format: match c[1] {
                        "png" => ImageFormat::Png,
                        "jpeg" => ImageFormat::Jpeg,
                        "gif" => ImageFormat::Gif,
                        "webp" => ImageFormat::WebP,
                        other => panic!("unknown format {other}"),
                    },
                    width: c[2].parse().unwrap(),
                    height: c[3].parse().unwrap(),
                    kind: match c[4] {
                        "clean" => Kind::Clean,
                        "meta" => Kind::Meta,
                        "bomb" => Kind::Bomb,
                        other => panic!("unknown kind {other}"),
                    },
                    orientation: c[5].parse().unwrap(),
                    icc: c[6] == "1",
                    must: c[7].to_owned(),
                }
            })
            .collect()
    })
}

pub fn strip_vec(input: &[u8]) -> Result<(roster_imaging::Inspection, Vec<u8>), ImageError> {
    let mut out = Vec::new();
    let inspection = strip(Cursor::new(input), &mut out, Limits::DEFAULT)?;
    Ok((inspection, out))
}

/// What must hold for any input at all; panics otherwise.
///
/// inspect and strip agree; a successful strip gives an output that
/// inspects without metadata, with the same format, dimensions and frames, and that
/// strips to itself; an input without metadata strips to itself.
pub fn check_invariants(input: &[u8]) {
    let inspected = inspect(input, Limits::DEFAULT);
    let stripped = strip_vec(input);
    match (&inspected, &stripped) {
        (Ok(a), Ok((b, out))) => {
            assert_eq!(a, b, "inspect and strip disagree");
            if !a.has_metadata {
                assert!(
                    out.as_slice() == input,
                    "an input without metadata was changed"
                );
            }
            let again = inspect(out.as_slice(), Limits::DEFAULT)
                .unwrap_or_else(|e| panic!("strip output refused by inspect: {e}"));
            assert!(!again.has_metadata, "strip output still has metadata");
            assert_eq!(
                (again.format, again.width, again.height, again.frames),
                (a.format, a.width, a.height, a.frames),
                "strip output changed format, dimensions or frames"
            );
            let (_, twice) = strip_vec(out).expect("strip output cannot be stripped");
            assert!(twice == *out, "strip is not idempotent");
        }
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "inspect and strip fail differently: {a} / {b}"
        ),
        _ => panic!(
            "inspect and strip disagree: {inspected:?} / {:?}",
            stripped.as_ref().map(|s| s.0)
        ),
    }
}

/// The byte ranges of a GIF's image blocks (descriptor to the end of its
/// data) and extensions, in order, walked independently of the crate: stray
/// bytes between blocks are passed over, the walk ends at the trailer or at
/// the end of the file (an extension cut short ends there).
pub fn gif_blocks(gif: &[u8]) -> Vec<(bool, std::ops::Range<usize>)> {
    let table = |packed: u8| {
        if packed & 0x80 != 0 {
            3 << ((packed & 7) + 1)
        } else {
            0
        }
    };
    let sub_blocks = |mut i: usize| {
        while *gif.get(i)? != 0 {
            i += 1 + usize::from(gif[i]);
        }
        Some(i + 1)
    };
    let mut blocks = Vec::new();
    let mut i = 13 + table(gif[10]);
    while let Some(&b) = gif.get(i) {
        let start = i;
        match b {
            0x2C => {
                i += 10 + table(gif[i + 9]);
                i = sub_blocks(i + 1).expect("a GIF fixture cut inside its image data");
                blocks.push((true, start..i));
            }
            0x21 => match sub_blocks(i + 2) {
                Some(end) => {
                    i = end;
                    blocks.push((false, start..i));
                }
                None => {
                    blocks.push((false, start..gif.len()));
                    break;
                }
            },
            0x3B => break,
            _ => i += 1,
        }
    }
    blocks
}
