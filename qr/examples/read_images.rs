//! Reads every PNG or JPEG in a directory and prints, per file, whether a QR code was read and
//! how long it took and the text; then the count. For comparing readers on the same images
//! (`scripts/reader-set.py` does, against zxing-cpp):
//! `cargo run --release -p propusk-qr --example read_images -- DIR`.

use std::time::Instant;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: read_images DIR");
        std::process::exit(64);
    };
    let mut names: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
            .collect(),
        Err(e) => {
            eprintln!("cannot read {dir}: {e}");
            std::process::exit(66);
        }
    };
    names.sort();
    let mut read = 0;
    for path in &names {
        let start = Instant::now();
        let outcome = propusk_qr::read_qr_file(path);
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        match outcome {
            Ok(text) => {
                read += 1;
                println!(
                    "{}\tread\t{ms:.1} ms\t{}",
                    name.unwrap_or_default(),
                    text.escape_debug()
                );
            }
            Err(e) => println!("{}\tnot read\t{ms:.1} ms\t{e}", name.unwrap_or_default()),
        }
    }
    println!("{read} of {} read", names.len());
}
