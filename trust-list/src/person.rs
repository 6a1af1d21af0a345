//! Who a verified credential is for, as credentials shown together are compared (SPEC §8.4):
//! a Propusk credential by its door form (initials, date of birth, masked document); an EU
//! certificate by the initials of its Latin names and its date of birth.

use propusk_spec::{BirthDate, DoorHolder, MaskedDocument};

/// The person a credential names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The initials as carried (Cyrillic for a domestic passport).
    initials: Vec<char>,
    /// The same in Latin letters, to compare across scripts.
    latin: Vec<char>,
    birth_date: String,
    /// The masked document, which only Propusk credentials carry.
    document: Option<MaskedDocument>,
}

/// The first letter of a Latin name, folded: `Ivanov`, `IVANOV` and `I<VANOV` all give `I`.
fn initial(name: &str) -> Option<char> {
    name.chars()
        .find(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
}

impl Person {
    /// A person from Latin names and a date of birth (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`), as an
    /// EU certificate names its holder.
    pub fn new(
        family: &str,
        given: Option<&str>,
        patronymic: Option<&str>,
        birth_date: &str,
    ) -> Self {
        let initials: Vec<char> = [Some(family), given, patronymic]
            .into_iter()
            .flatten()
            .filter_map(initial)
            .collect();
        Person {
            latin: initials.clone(),
            initials,
            birth_date: birth_date.trim().to_owned(),
            document: None,
        }
    }

    /// The holder of a Propusk credential.
    pub fn of(holder: &DoorHolder) -> Self {
        Person {
            initials: holder.initials.letters().to_vec(),
            latin: holder.initials.latin(),
            birth_date: holder.birth_date.to_string(),
            document: Some(holder.document.clone()),
        }
    }

    /// Whether two credentials can be one person's. Two Propusk credentials: the same initials,
    /// the same masked document. With an EU certificate (no document, no patronymic, Latin
    /// names): the same Latin initials of the family and given names, and the patronymic's
    /// where both carry one. Always: dates of birth that agree as far as both go (`1980-05`
    /// agrees with `1980-05-12`).
    pub fn matches(&self, other: &Person) -> bool {
        let dates = match (
            self.birth_date.parse::<BirthDate>(),
            other.birth_date.parse::<BirthDate>(),
        ) {
            (Ok(a), Ok(b)) => a.agrees_with(b),
            _ => false,
        };
        let names = match (&self.document, &other.document) {
            (Some(a), Some(b)) => a == b && self.initials == other.initials,
            _ => {
                let (a, b) = (&self.latin, &other.latin);
                a.len().min(2) == b.len().min(2)
                    && a.iter()
                        .zip(b.iter())
                        .take(a.len().min(b.len()))
                        .all(|(x, y)| x == y)
            }
        };
        names && dates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_person_on_a_propusk_credential_and_an_eu_certificate() {
        let door = propusk_spec::examples::holder().door();
        let propusk = Person::of(&door);
        let eu = Person::new("IVANOV", Some("IVAN"), None, "1980-05-12");
        assert!(propusk.matches(&eu) && eu.matches(&propusk));
        assert!(Person::new("I<VANOV", Some("Ivan"), None, "1980").matches(&eu));
        assert!(!Person::new("PETROV", Some("IVAN"), None, "1980-05-12").matches(&eu));
        assert!(!Person::new("IVANOV", Some("IVAN"), None, "1980-06-12").matches(&eu));
        assert!(!Person::new("IVANOV", None, None, "1980-05-12").matches(&eu));
        let other_patronymic = Person::new("IVANOV", Some("IVAN"), Some("PETROVICH"), "1980");
        assert!(!other_patronymic.matches(&propusk));
        assert!(other_patronymic.matches(&eu));
    }

    #[test]
    fn two_propusk_credentials_share_initials_document_and_birth_date() {
        let mut door = propusk_spec::examples::holder().door();
        let one = Person::of(&door);
        assert!(one.matches(&one.clone()));
        door.birth_date = "1980-05".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(one.matches(&Person::of(&door)), "a partial date agrees");
        let mut other = propusk_spec::examples::holder();
        other.document =
            propusk_spec::Document::new(propusk_spec::DocumentKind::Passport, "4510 123780")
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(!one.matches(&Person::of(&other.door())), "another passport");
        other = propusk_spec::examples::holder();
        other.given_name =
            Some(propusk_spec::Name::new("Пётр", None).unwrap_or_else(|e| panic!("{e}")));
        assert!(!one.matches(&Person::of(&other.door())), "other initials");
    }
}
