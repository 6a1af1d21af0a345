//! Who a verified credential is for, as credentials shown together are compared: the Latin
//! (ICAO 9303) names folded to their letters, and the date of birth as precise as it was issued.
//! Propusk credentials and EU certificates are compared alike.

use propusk_spec::Holder;

/// The person a credential names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    family: String,
    given: Option<String>,
    patronymic: Option<String>,
    birth_date: String,
}

/// Upper-case Latin letters only: `Ivanov`, `IVANOV`, `I-VANOV` and `I<VANOV` all read `IVANOV`.
fn fold(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Person {
    /// A person from Latin names and a date of birth (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
    pub fn new(
        family: &str,
        given: Option<&str>,
        patronymic: Option<&str>,
        birth_date: &str,
    ) -> Self {
        let folded = |n: Option<&str>| n.map(fold).filter(|n| !n.is_empty());
        Person {
            family: fold(family),
            given: folded(given),
            patronymic: folded(patronymic),
            birth_date: birth_date.trim().to_owned(),
        }
    }

    /// The holder of a Propusk credential.
    pub fn of(holder: &Holder) -> Self {
        Person::new(
            holder.family_name.latin(),
            holder.given_name.as_ref().map(|n| n.latin()),
            holder.patronymic.as_ref().map(|n| n.latin()),
            &holder.birth_date.to_string(),
        )
    }

    /// Whether two credentials can be one person's: the same family and given names, the same
    /// patronymic where both carry one (an EU certificate has none), and dates of birth that
    /// agree as far as both go (`1980-05` agrees with `1980-05-12`).
    pub fn matches(&self, other: &Person) -> bool {
        let both = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let dates = self.birth_date.starts_with(&other.birth_date)
            || other.birth_date.starts_with(&self.birth_date);
        self.family == other.family
            && self.given == other.given
            && both(&self.patronymic, &other.patronymic)
            && dates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_person_on_a_propusk_credential_and_an_eu_certificate() {
        let propusk = Person::new("IVANOV", Some("IVAN"), Some("IVANOVICH"), "1980-05");
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
}
