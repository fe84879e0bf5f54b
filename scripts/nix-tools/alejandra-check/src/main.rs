//! `alejandra-check [--check] PATH...`: the Alejandra formatter over every `.nix` file
//! under the given paths. Alejandra's own CLI is not published on crates.io, its
//! formatting library is; this is the smallest front end that makes it usable offline.
//! With `--check`, nothing is written and the exit status is 1 when a file would change;
//! without it, files are formatted in place. A file that does not parse is exit status 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SKIP_DIRS: &[&str] = &[".git", "target", ".venv", "node_modules", ".direnv", "result"];

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            if entry.file_type()?.is_dir() && SKIP_DIRS.iter().any(|s| name == *s) {
                continue;
            }
            collect(&entry.path(), out)?;
        }
    } else if path.extension().is_some_and(|e| e == "nix") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut check = false;
    let mut roots = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" | "-c" => check = true,
            "--version" | "-V" => {
                println!("alejandra-check (alejandra library 3.1.0)");
                return ExitCode::SUCCESS;
            }
            _ => roots.push(PathBuf::from(arg)),
        }
    }
    if roots.is_empty() {
        roots.push(PathBuf::from("."));
    }

    let mut files = Vec::new();
    for root in &roots {
        if let Err(e) = collect(root, &mut files) {
            eprintln!("alejandra-check: {}: {e}", root.display());
            return ExitCode::from(2);
        }
    }

    let (mut changed, mut failed) = (0usize, 0usize);
    for file in &files {
        let name = file.display().to_string();
        let before = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("alejandra-check: {name}: {e}");
                failed += 1;
                continue;
            }
        };
        match alejandra::format::in_memory(name.clone(), before) {
            (alejandra::format::Status::Error(e), _) => {
                eprintln!("alejandra-check: {name}: parse error: {e}");
                failed += 1;
            }
            (alejandra::format::Status::Changed(false), _) => {}
            (alejandra::format::Status::Changed(true), after) => {
                changed += 1;
                if check {
                    println!("would reformat {name}");
                } else if let Err(e) = std::fs::write(file, after) {
                    eprintln!("alejandra-check: {name}: {e}");
                    failed += 1;
                } else {
                    println!("reformatted {name}");
                }
            }
        }
    }
    eprintln!("alejandra-check: {} file(s), {changed} to reformat, {failed} failed", files.len());
    if failed > 0 {
        ExitCode::from(2)
    } else if check && changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
