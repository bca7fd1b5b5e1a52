//! Echoing what a user or a server gave us back in a message, safely: a 10 MB seed line
//! or a 5,000-character argument must cost one short line on stderr, not the input
//! again. Every message that quotes input quotes it through [`clip`].
//!
//! Types: none; functions [`clip`], [`clip_words`] and the limit [`MAX_ECHO`].

/// The most characters of an input a message repeats.
pub(crate) const MAX_ECHO: usize = 80;

/// `input` for quoting in a message: at most [`MAX_ECHO`] characters, control
/// characters escaped (a message is one line, and a terminal must not interpret what a
/// stranger wrote), and, when cut, how much was left out.
pub(crate) fn clip(input: &str) -> String {
    let mut out = String::new();
    let mut chars = input.chars();
    for (shown, c) in chars.by_ref().enumerate() {
        if shown == MAX_ECHO {
            let rest = 1 + chars.count();
            out.push_str(&format!("… ({rest} more characters)"));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A message line with each overlong word clipped, the rest kept: for messages written
/// by a library that quotes the input whole (clap's usage errors).
pub(crate) fn clip_words(line: &str) -> String {
    let words: Vec<String> = line
        .split(' ')
        .map(|w| {
            if w.chars().nth(MAX_ECHO).is_some() {
                clip(w)
            } else {
                w.to_string()
            }
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_echoed_as_is() {
        assert_eq!(clip("mastodon.social"), "mastodon.social");
        assert_eq!(clip(""), "");
        assert_eq!(clip(&"a".repeat(MAX_ECHO)), "a".repeat(MAX_ECHO));
    }

    #[test]
    fn long_input_is_cut_and_says_how_much() {
        let long = "é".repeat(10_000_000);
        let echoed = clip(&long);
        assert_eq!(
            echoed,
            format!("{}… (9999920 more characters)", "é".repeat(MAX_ECHO))
        );
    }

    #[test]
    fn only_long_words_of_a_line_are_clipped() {
        let line = format!("error: invalid value '{}' for '--seed'", "x".repeat(500));
        assert_eq!(
            clip_words(&line),
            format!(
                "error: invalid value '{}… (422 more characters) for '--seed'",
                "x".repeat(MAX_ECHO - 1)
            )
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clip("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
    }
}
