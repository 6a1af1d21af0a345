//! ICAO Doc 9303 (Part 3, 8th edition) transliteration into the Latin form of travel documents.

/// The Latin form of a Cyrillic letter, by ICAO 9303 Part 3 table, upper case.
fn cyrillic(c: char) -> Option<&'static str> {
    let upper = c.to_uppercase().next().unwrap_or(c);
    Some(match upper {
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "G",
        'Д' => "D",
        'Е' | 'Ё' | 'Э' => "E",
        'Ж' => "ZH",
        'З' => "Z",
        'И' | 'Й' | 'І' | 'Ї' => "I",
        'К' | 'Ќ' => "K",
        'Л' => "L",
        'М' => "M",
        'Н' => "N",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'У' | 'Ў' => "U",
        'Ф' => "F",
        'Х' => "KH",
        'Ц' => "TS",
        'Ч' => "CH",
        'Ш' => "SH",
        'Щ' => "SHCH",
        'Ъ' | 'Є' => "IE",
        'Ы' => "Y",
        'Ь' => "",
        'Ю' => "IU",
        'Я' => "IA",
        'Ђ' => "D",
        'Ѓ' | 'Ґ' => "G",
        'Ѕ' | 'Џ' => "DZ",
        'Ј' => "J",
        'Љ' => "LJ",
        'Њ' => "NJ",
        'Ћ' => "C",
        _ => return None,
    })
}

/// The Latin form of a Latin-1 letter with a diacritic, by ICAO 9303 Part 3 table, upper case.
fn latin1(c: char) -> Option<&'static str> {
    let upper = c.to_uppercase().next().unwrap_or(c);
    Some(match upper {
        'À' | 'Á' | 'Â' | 'Ã' => "A",
        'Ä' | 'Æ' => "AE",
        'Å' => "AA",
        'Ç' => "C",
        'È' | 'É' | 'Ê' | 'Ë' => "E",
        'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'Ð' => "D",
        'Ñ' => "N",
        'Ò' | 'Ó' | 'Ô' | 'Õ' => "O",
        'Ö' | 'Ø' => "OE",
        'Ù' | 'Ú' | 'Û' => "U",
        'Ü' => "UE",
        'Ý' | 'Ÿ' => "Y",
        'Þ' => "TH",
        _ if c == 'ß' || c == 'ẞ' => "SS",
        _ if c == 'ÿ' => "Y",
        _ => return None,
    })
}

/// Transliterates a name into its upper-case Latin form: Cyrillic by the ICAO 9303 table,
/// ASCII letters upper-cased, Latin-1 letters by their ICAO equivalents; spaces, hyphens
/// and apostrophes are kept. `None` when a character has no such form (then the Latin form
/// must be given explicitly).
pub fn to_latin(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'A'..='Z' | ' ' | '-' | '\'' => out.push(c),
            'a'..='z' => out.push(c.to_ascii_uppercase()),
            _ => out.push_str(cyrillic(c).or_else(|| latin1(c))?),
        }
    }
    Some(out)
}

/// Free text (a testing centre's name, an authority's) in Latin letters for readers abroad:
/// Cyrillic by the ICAO 9303 table, keeping each letter's case; ASCII, and Latin-1 letters by
/// their ICAO equivalents, kept; `№` as `No`; anything else without a Latin form left out.
pub fn text_to_latin(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii() {
            out.push(c);
        } else if c == '№' {
            out.push_str("No");
        } else if let Some(latin) = cyrillic(c).or_else(|| latin1(c)) {
            // A capital before a small letter is written as a capital and small letters (Щука
            // → Shchuka); a capital among capitals stays all capitals (ГБУЗ → GBUZ).
            let title = c.is_uppercase() && chars.peek().is_some_and(|n| n.is_lowercase());
            for (i, l) in latin.chars().enumerate() {
                out.push(match (c.is_lowercase(), title && i > 0) {
                    (true, _) | (false, true) => l.to_ascii_lowercase(),
                    (false, false) => l,
                });
            }
        }
    }
    out
}

/// Whether `c` is a Cyrillic capital of the table whose Latin form is not empty (every one but
/// `Ь`): what may stand as a Cyrillic initial (SPEC §8.1).
pub fn is_cyrillic_initial(c: char) -> bool {
    c.is_uppercase() && cyrillic(c).is_some_and(|l| !l.is_empty())
}

/// Whether a string is a well-formed Latin form: upper-case A–Z, spaces, hyphens and
/// apostrophes, starting with a letter.
pub fn is_latin_form(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || matches!(c, ' ' | '-' | '\''))
}

/// The machine-readable-zone form of a Latin name: separators become `<`, apostrophes go.
pub fn to_mrz(latin: &str) -> String {
    latin
        .chars()
        .filter(|&c| c != '\'')
        .map(|c| if c == ' ' || c == '-' { '<' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_keeps_its_case_digits_and_signs() {
        assert_eq!(text_to_latin("ГБУЗ ГП № 2"), "GBUZ GP No 2");
        assert_eq!(
            text_to_latin("Лаборатория «Гемотест», Москва"),
            "Laboratoriia Gemotest, Moskva"
        );
        assert_eq!(text_to_latin("Щукина"), "Shchukina");
        assert_eq!(text_to_latin("Testzentrum 1"), "Testzentrum 1");
    }

    #[test]
    fn russian_names_by_icao_9303() {
        let cases = [
            ("Иванов", "IVANOV"),
            ("Иванович", "IVANOVICH"),
            ("Щукина", "SHCHUKINA"),
            ("Юлия", "IULIIA"),
            ("Ёлкин", "ELKIN"),
            ("Подъячев", "PODIEIACHEV"),
            ("Ольга", "OLGA"),
            ("Цой", "TSOI"),
            ("Хабибуллин", "KHABIBULLIN"),
            ("Анна-Мария", "ANNA-MARIIA"),
            ("Müller", "MUELLER"),
            ("O'Brien", "O'BRIEN"),
            ("Straße", "STRASSE"),
            ("STRAẞE", "STRASSE"),
        ];
        for (name, latin) in cases {
            assert_eq!(to_latin(name).as_deref(), Some(latin), "{name}");
        }
    }

    #[test]
    fn scripts_without_a_table_need_an_explicit_form() {
        assert_eq!(to_latin("王"), None);
        // ı and ſ are small letters whose capitals are ASCII, but not in the table (SPEC §8.1).
        assert_eq!(to_latin("Yıldız"), None);
        assert_eq!(to_latin("ſ"), None);
        assert_eq!(to_mrz("ANNA-MARIIA O'NEIL"), "ANNA<MARIIA<ONEIL");
        assert!(is_latin_form("IVANOV"));
        assert!(!is_latin_form("Ivanov"));
        assert!(!is_latin_form(" IVANOV"));
    }
}
