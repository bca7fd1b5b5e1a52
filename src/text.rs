//! Text that came from a server: the one sanitizer every parser applies at the
//! boundary, so a software name or version can never carry a newline, an escape
//! sequence or a page of text into the store, a report or a terminal. Output formats
//! still escape what is special to them (see `render`).
//!
//! Types: none; [`clean`] and its limit [`MAX_TEXT_CHARS`].

/// Characters kept of one remote text (software name, version, node name, language):
/// real ones are far shorter (the longest version seen is 74).
pub const MAX_TEXT_CHARS: usize = 200;

/// Remote text made safe to store and show anywhere: each run of white space, control
/// characters (newlines, escape sequences, C1 controls) and invisible formatting
/// characters (bidirectional overrides, zero-width marks) becomes one space, the ends
/// are trimmed, and at most [`MAX_TEXT_CHARS`] characters are kept. Empty is `None`.
pub fn clean(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len().min(MAX_TEXT_CHARS));
    let (mut gap, mut kept) = (false, 0);
    for c in raw.chars() {
        if c.is_whitespace() || c.is_control() || invisible(c) {
            gap = !out.is_empty();
            continue;
        }
        if gap {
            if kept + 1 == MAX_TEXT_CHARS {
                break;
            }
            out.push(' ');
            kept += 1;
            gap = false;
        }
        out.push(c);
        kept += 1;
        if kept == MAX_TEXT_CHARS {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Unicode format characters that change how text around them is displayed while
/// showing nothing themselves: bidirectional controls, zero-width marks, the BOM.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_newlines_and_invisibles_become_one_space() {
        assert_eq!(
            clean("Evil\n## Heading\r\n[click](javascript:alert(1))").as_deref(),
            Some("Evil ## Heading [click](javascript:alert(1))")
        );
        assert_eq!(
            clean("mastodon\u{1b}[2J\u{1b}]0;pwned\u{7}").as_deref(),
            Some("mastodon [2J ]0;pwned")
        );
        assert_eq!(clean("4.2\u{9b}31m").as_deref(), Some("4.2 31m"), "C1 CSI");
        assert_eq!(
            clean("abc\u{202E}fdp.exe\u{200B}").as_deref(),
            Some("abc fdp.exe")
        );
        assert_eq!(clean("\u{0}\t \u{2028}"), None);
        let long = "é".repeat(MAX_TEXT_CHARS + 50);
        assert_eq!(
            clean(&long).map(|t| t.chars().count()),
            Some(MAX_TEXT_CHARS)
        );
        assert_eq!(clean(" 4.3.2 ").as_deref(), Some("4.3.2"));
        assert_eq!(clean("FI𝑓F").as_deref(), Some("FI𝑓F"));
    }
}
