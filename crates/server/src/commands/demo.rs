//! `rempart demo` (being written).
