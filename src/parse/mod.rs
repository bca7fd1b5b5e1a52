//! Parsers for what fediverse servers serve (filled in by the parse work).
