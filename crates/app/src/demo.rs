//! Demo seeding (filled later).
