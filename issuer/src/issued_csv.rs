//! `issued.csv`: what a run issued, a row per record — the record, its credential, its twin and
//! image, what it replaced, and the holder's full record for the paper copy.

use std::path::{Path, PathBuf};

use crate::error::IssuerError;
use crate::issuer::restrict;
use crate::records::Issued;

/// The file name of a record's QR image. A record id of ASCII letters, digits, `.`, `_` and `-`
/// (not starting with `.`, at most 100 characters) is its own name: `R-0001.png`. Any other id
/// keeps those characters, `_` for the others (and for a leading `.`), and takes `~` and the first 40 bits of the SHA-256
/// of the id: `Р-0001` → `_-0001~1c4a0e9b7f.png`. `~` stands only there, so two records share a
/// name only if their hashes do, which [`Issuer::issue_batch`] checks before writing any image.
pub fn image_name(record_id: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !record_id.is_empty()
        && record_id.len() <= 100
        && !record_id.starts_with('.')
        && record_id.chars().all(plain)
    {
        return format!("{record_id}.png");
    }
    let safe: String = record_id
        .chars()
        .take(60)
        .enumerate()
        .map(|(i, c)| {
            if plain(c) && (i, c) != (0, '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let digest = propusk_trust_list::sha256_hex(record_id.as_bytes());
    format!("{safe}~{}.png", &digest[..10])
}

/// `issued.csv` written as the run goes, row by row in input order, into a temporary file that
/// takes its place whole at the end (owner-only: it names every record's credential).
pub(crate) struct IssuedCsv {
    writer: csv::Writer<std::io::BufWriter<std::fs::File>>,
    tmp: PathBuf,
    path: PathBuf,
    eu: bool,
    images: bool,
    replaces: bool,
}

impl IssuedCsv {
    pub(crate) fn create(
        out: &Path,
        eu: bool,
        images: bool,
        replaces: bool,
    ) -> Result<Self, IssuerError> {
        let path = out.join("issued.csv");
        let tmp = out.join("issued.csv.tmp");
        let file = std::fs::File::create(&tmp).map_err(|e| IssuerError::io(&tmp, e))?;
        restrict(&tmp, 0o600)?;
        let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
        let mut header = vec!["record_id", "credential_id"];
        if eu {
            header.push("hc1");
        }
        // Which image is the record's (a record id that is no plain file name gets another).
        if images {
            header.push("image");
        }
        if replaces {
            header.push("replaces");
        }
        // The holder's full record, for the paper copy (the credential carries initials only).
        header.extend(["name", "birth_date", "document"]);
        writer
            .write_record(&header)
            .map_err(|e| IssuerError::io(&tmp, e.into()))?;
        Ok(IssuedCsv {
            writer,
            tmp,
            path,
            eu,
            images,
            replaces,
        })
    }

    pub(crate) fn row(&mut self, issued: &Issued, twin: Option<&str>) -> Result<(), IssuerError> {
        let id = issued.id.to_string();
        let record = issued.record_id.as_deref().unwrap_or_default();
        // A credential without a record (signed again by `reissue`) is named by its id.
        let image = image_name(issued.record_id.as_deref().unwrap_or(&id));
        let mut row = vec![record, id.as_str()];
        if self.eu {
            row.push(twin.unwrap_or_default());
        }
        if self.images {
            row.push(&image);
        }
        let old = issued.replaces.map(|id| id.to_string()).unwrap_or_default();
        if self.replaces {
            row.push(&old);
        }
        let (name, born, document) = issued
            .holder
            .as_ref()
            .map(|h| {
                let names: Vec<&str> = h.names().map(propusk_spec::Name::native).collect();
                (
                    names.join(" "),
                    h.birth_date.to_string(),
                    h.document.number().to_owned(),
                )
            })
            .unwrap_or_default();
        row.extend([name.as_str(), born.as_str(), document.as_str()]);
        self.writer
            .write_record(&row)
            .map_err(|e| IssuerError::io(&self.tmp, e.into()))
    }

    pub(crate) fn finish(self) -> Result<(), IssuerError> {
        let tmp = self.tmp;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| IssuerError::io(&tmp, e.into_error()))?
            .into_inner()
            .map_err(|e| IssuerError::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| IssuerError::io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| IssuerError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use propusk_spec::Timestamp;

    #[test]
    fn every_record_has_a_file_name_of_its_own() {
        assert_eq!(image_name("R-0001"), "R-0001.png");
        let (cyrillic, other) = (image_name("Р-0001"), image_name("Ж-0001"));
        assert_ne!(cyrillic, other);
        assert!(
            cyrillic.starts_with("_-0001~") && cyrillic.ends_with(".png"),
            "{cyrillic}"
        );
        for odd in ["", ".hidden", "../up", "a/b", "x~y", &"r".repeat(101)] {
            let name = image_name(odd);
            assert!(
                name.contains('~') && !name.contains('/') && !name.starts_with('.'),
                "{odd:?} → {name}"
            );
        }
    }

    #[test]
    fn issued_csv_quotes_what_needs_quoting() {
        let record = |id: &str| Issued {
            id: propusk_spec::CredentialId::from_bytes([1; 12]),
            credential: String::new(),
            links: None,
            record_id: Some(id.into()),
            credential_type: propusk_spec::CredentialType::Test,
            key_id: propusk_spec::KeyId::new(&[1, 2, 3, 4]).unwrap_or_else(|| unreachable!()),
            issued_at: Timestamp::from_unix(0).unwrap_or_else(|| unreachable!()),
            expires_at: Timestamp::from_unix(0).unwrap_or_else(|| unreachable!()),
            status: crate::records::CredentialStatus::Issued,
            replaces: None,
            holder: None,
        };
        let dir = std::env::temp_dir().join(format!("propusk-issued-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        let written = IssuedCsv::create(&dir, false, true, false).and_then(|mut csv| {
            let mut first = record("R-1");
            first.holder = Some(propusk_spec::examples::holder());
            csv.row(&first, None)?;
            csv.row(&record("a,\"b\""), None)?;
            csv.finish()
        });
        assert!(written.is_ok(), "{written:?}");
        let text = std::fs::read_to_string(dir.join("issued.csv")).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        let id = propusk_spec::CredentialId::from_bytes([1; 12]);
        assert_eq!(
            text,
            format!(
                "record_id,credential_id,image,name,birth_date,document\n\
                 R-1,{id},R-1.png,Иванов Иван Иванович,1980-05-12,4510 123789\n\
                 \"a,\"\"b\"\"\",{id},{},,,\n",
                image_name("a,\"b\"")
            )
        );
    }
}
