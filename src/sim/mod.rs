//! The simulated fediverse (filled in by the sim work).
