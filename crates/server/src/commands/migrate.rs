//! `rempart migrate` (being written).
