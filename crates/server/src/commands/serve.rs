//! `rempart serve` (being written).
