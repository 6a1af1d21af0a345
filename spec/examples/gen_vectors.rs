//! Writes the golden vectors to `spec/vectors/` (see `spec/vectors/README.md`).

#[path = "../tests/support/vectors.rs"]
mod vectors;

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    std::fs::create_dir_all(&dir)?;
    for old in std::fs::read_dir(&dir)? {
        let path = old?.path();
        if path.is_file() {
            std::fs::remove_file(path)?;
        }
    }
    let files = vectors::generate();
    for f in &files {
        std::fs::write(dir.join(&f.name), &f.contents)?;
    }
    println!("wrote {} files to {}", files.len(), dir.display());
    Ok(())
}
