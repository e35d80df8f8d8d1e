//! `rempart gen` (being written).
