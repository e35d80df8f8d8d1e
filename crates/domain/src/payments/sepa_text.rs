//! Texts that travel in a SEPA file: the EPC character set, transliteration, lengths, and the
//! compact run reference.
//!
//! The EPC implementation guidelines allow only the Latin character set
//! `a-z A-Z 0-9 / - ? : ( ) . , ' +` and the space in a SEPA credit transfer. Names are
//! transliterated (`Hélène Ørsted & Fils` → `Helene Orsted + Fils`), every other character
//! becomes a space, runs of spaces collapse and the text is cut to the field's length.

/// Whether `c` belongs to the EPC SEPA character set.
pub fn is_sepa_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '/' | '-' | '?' | ':' | '(' | ')' | '.' | ',' | '\'' | '+' | ' '
        )
}

/// Whether every character of `s` belongs to the SEPA character set.
pub fn is_sepa_text(s: &str) -> bool {
    s.chars().all(is_sepa_char)
}

/// `input` in the SEPA character set, at most `max_chars` characters: transliterated to ASCII
/// (`é` → `e`, `ß` → `ss`, `Æ` → `AE`), `&` → `+`, `_` → `-`, any other character → a space;
/// spaces collapsed and trimmed. `None` when nothing is left.
pub fn to_sepa_text(input: &str, max_chars: usize) -> Option<String> {
    let ascii = deunicode::deunicode(input);
    let mut out = String::with_capacity(ascii.len().min(max_chars));
    let mut pending_space = false;
    for c in ascii.chars() {
        let c = match c {
            '&' => '+',
            '_' => '-',
            c if is_sepa_char(c) && c != ' ' => c,
            _ => {
                pending_space = !out.is_empty();
                continue;
            }
        };
        let needed = usize::from(pending_space) + 1;
        if out.len() + needed > max_chars {
            break;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    (!out.is_empty()).then_some(out)
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A 128-bit value in Crockford base 32: 26 characters, digits and upper-case letters
/// (the ULID alphabet), so a UUIDv7 run id sorts the same way as its reference.
pub fn crockford_base32(value: u128) -> String {
    (0..26)
        .rev()
        .map(|i| {
            let index = ((value >> (i * 5)) & 0x1f) as usize;
            char::from(CROCKFORD[index])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accents_and_ligatures_are_transliterated() {
        assert_eq!(
            to_sepa_text("Hélène Ørsted & Fils", 70).as_deref(),
            Some("Helene Orsted + Fils")
        );
        assert_eq!(
            to_sepa_text("Œuvre Straße Ça", 70).as_deref(),
            Some("OEuvre Strasse Ca")
        );
        assert_eq!(
            to_sepa_text("Opticien_du_Coin", 70).as_deref(),
            Some("Opticien-du-Coin")
        );
    }

    #[test]
    fn forbidden_characters_become_single_spaces() {
        assert_eq!(
            to_sepa_text("  Dr <b>\"Martin\"</b>;  @home\t\n", 70).as_deref(),
            Some("Dr b Martin /b home")
        );
    }

    #[test]
    fn text_is_cut_to_the_length_without_a_trailing_space() {
        assert_eq!(to_sepa_text("ABCDE FGHIJ", 6).as_deref(), Some("ABCDE"));
        assert_eq!(to_sepa_text("ABCDE FGHIJ", 7).as_deref(), Some("ABCDE F"));
        assert_eq!(to_sepa_text("ABCDEFGHIJ", 3).as_deref(), Some("ABC"));
    }

    #[test]
    fn nothing_left_is_none() {
        assert_eq!(to_sepa_text("", 70), None);
        assert_eq!(to_sepa_text("  ;;; @@ ", 70), None);
        assert_eq!(to_sepa_text("ABC", 0), None);
    }

    #[test]
    fn sepa_set_is_exactly_the_epc_list() {
        for c in "azAZ09/-?:().,'+ ".chars() {
            assert!(is_sepa_char(c), "{c:?}");
        }
        for c in "&_@\"<>;!*=#%$é\t\n".chars() {
            assert!(!is_sepa_char(c), "{c:?}");
        }
    }

    #[test]
    fn crockford_base32_is_26_characters_and_ordered() {
        assert_eq!(crockford_base32(0), "00000000000000000000000000");
        assert_eq!(crockford_base32(u128::MAX), "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
        assert_eq!(crockford_base32(31), "0000000000000000000000000Z");
        assert!(crockford_base32(1 << 64) > crockford_base32((1 << 64) - 1));
    }

    proptest! {
        #[test]
        fn sepa_text_is_always_in_the_set_and_the_length(s in any::<String>(), max in 0usize..200) {
            if let Some(t) = to_sepa_text(&s, max) {
                prop_assert!(is_sepa_text(&t), "{t:?}");
                prop_assert!(t.chars().count() <= max);
                prop_assert!(!t.starts_with(' ') && !t.ends_with(' ') && !t.contains("  "));
            }
        }

        #[test]
        fn sepa_text_keeps_what_is_already_clean(s in "[A-Za-z0-9/?:().,'+-]{1,20}( [A-Za-z0-9/?:().,'+-]{1,20}){0,3}") {
            prop_assert_eq!(to_sepa_text(&s, 140), Some(s.clone()));
        }
    }
}
